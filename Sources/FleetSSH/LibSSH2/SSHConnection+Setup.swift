import CLibSSH2
import FleetCore
import Foundation

/// Connection setup, on the reactor thread: TCP connect, SSH handshake, host key check,
/// authentication. Every failure resumes the waiter of `start()` once, with whether a
/// retry may help.
extension SSHConnection {
    func begin(_ continuation: CheckedContinuation<ConnectionInfo, Error>) {
        setupWaiter = continuation
        setupDeadline = Reactor.now() + plan.connectTimeout.nanoseconds
        let address: SocketAddress
        switch plan.transport {
        case .bridged(let socket):
            // Already connected, through the jump host: straight to the SSH handshake.
            fd = socket
            phase = .connecting
            reactor.register(fd, self, readable: false, writable: true)
            return startSession(quickAck: false)
        case .tcp(let a):
            address = a
        }
        switch TCPSocket.startConnect(to: address) {
        case .failure(let e):
            return failSetup(
                RemoteError(.unreachable, host: plan.hostName, "\(plan.address): \(TCPSocket.describe(e.code))"),
                retryable: e.code == ECONNREFUSED)
        case .success(let socket):
            fd = socket
            phase = .connecting
            reactor.register(fd, self, readable: false, writable: true)
        }
    }

    func finishTCPConnect() {
        let code = TCPSocket.connectError(fd)
        guard code == 0 else {
            return failSetup(
                RemoteError(.unreachable, host: plan.hostName, "\(plan.address): \(TCPSocket.describe(code))"),
                retryable: code == ECONNREFUSED || code == ECONNRESET)
        }
        startSession(quickAck: true)
    }

    /// The socket is connected: create the libssh2 session and start the handshake.
    private func startSession(quickAck: Bool) {
        _ = LibSSH2.initialized
        // TCP_QUICKACK only means something on TCP (a bridged socket is a socketpair).
        stats.pointee.quickack = quickAck ? 1 : 0
        guard let s = fleet_session_init(stats) else {
            return failSetup(
                RemoteError(.connectionLost, host: plan.hostName, "libssh2 could not create a session"),
                retryable: false)
        }
        session = s
        libssh2_session_set_blocking(s, 0)
        preferKnownHostKeyTypes(s)
        phase = .handshaking
        reactor.update(fd, readable: true, writable: false)
        drive()
    }

    /// Asks the server for the host key types known_hosts already has for it, first
    /// (as OpenSSH does), so a known host is not reported unknown for offering another type.
    private func preferKnownHostKeyTypes(_ s: OpaquePointer) {
        let known = plan.knownHosts.knownKeyTypes(host: plan.hostKeyName, port: plan.port)
        guard !known.isEmpty else { return }
        let supported = LibSSH2.supportedHostKeyAlgorithms(s)
        let first = known.filter(supported.contains)
        guard !first.isEmpty else { return }
        let order = first + supported.filter { !first.contains($0) }
        _ = libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
    }

    func advanceSetup() {
        guard let s = session else { return }
        if phase == .handshaking {
            let rc = libssh2_session_handshake(s, fd)
            if LibSSH2.isAgain(rc) { return }
            guard rc == 0 else {
                let (_, message) = LibSSH2.lastError(s)
                let noBanner =
                    rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_BANNER_RECV
                    || rc == LIBSSH2_ERROR_SOCKET_RECV
                return failSetup(
                    RemoteError(
                        .unreachable, host: plan.hostName,
                        "SSH handshake with \(plan.address) failed: \(message)"),
                    retryable: noBanner)
            }
            if let refusal = verifyHostKey(s) { return failSetup(refusal, retryable: false) }
            phase = .authenticating
        }
        if phase == .authenticating {
            switch advanceAuth(s) {
            case .blocked:
                return
            case .failed(let error):
                return failSetup(error, retryable: false)
            case .done(let how):
                phase = .ready
                startKeepalive()
                let banner = libssh2_session_banner_get(s).map { String(cString: $0) } ?? "unknown"
                let info = ConnectionInfo(
                    serverBanner: banner, hostKeyType: hostKey.type,
                    hostKeyFingerprint: hostKey.fingerprint, authenticatedWith: how,
                    setupDuration: .nanoseconds(Reactor.now() - startedAt))
                setupWaiter?.resume(returning: info)
                setupWaiter = nil
            }
        }
    }

    private func verifyHostKey(_ s: OpaquePointer) -> RemoteError? {
        var len = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(s, &len, &type) else {
            return RemoteError(.hostKeyUnknown, host: plan.hostName, "the server at \(plan.address) sent no host key")
        }
        let blob = [UInt8](UnsafeRawBufferPointer(start: raw, count: len))
        let keyType = LibSSH2.keyType(ofBlob: blob)
        hostKey = (keyType, Digest.fingerprint(ofKeyBlob: blob))
        let verdict = plan.knownHosts.verify(host: plan.hostKeyName, port: plan.port, keyType: keyType, keyBlob: blob)
        return HostKeyCheck.refusal(
            verdict, plan: plan, keyType: keyType, fingerprint: hostKey.fingerprint,
            record: {
                try plan.knownHosts.record(host: plan.hostKeyName, port: plan.port, keyType: keyType, keyBlob: blob)
            }, warn: plan.warn)
    }

    func failSetup(_ error: RemoteError, retryable: Bool) {
        let waiter = setupWaiter
        setupWaiter = nil
        teardown(error, polite: false)
        waiter?.resume(throwing: SetupFailure(error: error, retryable: retryable))
    }
}
