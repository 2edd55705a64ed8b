import FleetCore
import Synchronization

/// A `RemoteExecutor` whose hosts answer from a script, for unit tests of everything
/// above the transport. It records every call, tracks how many hosts are in flight, and
/// can hold a command until the test releases it (no sleeps: tests decide the order).
public final class ScriptedExecutor: RemoteExecutor {
    /// What a host does with a command.
    public enum Reply: Sendable {
        case result(CommandResult)
        case error(RemoteError.Kind, String)
        /// Waits until `release(gate)` is called, then answers with the reply.
        indirect case held(gate: String, then: Reply)
    }

    public typealias Script = @Sendable (_ host: String, _ command: RemoteCommand) -> Reply

    /// What a tunnel from a host to a port gives: the bytes the far side sends (then it
    /// closes), a refusal, or a wait for a gate first.
    public enum TunnelReply: Sendable {
        case bytes([UInt8])
        case refused(String)
        indirect case held(gate: String, then: TunnelReply)

        /// An HTTP response with this status and body.
        public static func http(_ status: Int, _ body: String) -> TunnelReply {
            .bytes(Array("HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8))
        }
    }

    public typealias TunnelScript = @Sendable (_ host: String, _ targetHost: String, _ port: Int) -> TunnelReply
    /// nil: the host connects; otherwise the error `connect` throws.
    public typealias ConnectScript = @Sendable (_ host: String) -> RemoteError.Kind?

    private struct State {
        var calls: [(host: String, command: String)] = []
        var inFlight = 0
        var maxInFlight = 0
        var open: Set<String> = []
        var waiting: [String: [(id: Int, CheckedContinuation<Void, Never>)]] = [:]
        var nextWaiter = 0
        var cancelledWaiters: Set<Int> = []
        var arrived: [String: Int] = [:]
        var arrivalWaiters: [(gate: String, count: Int, CheckedContinuation<Void, Never>)] = []
    }

    private let script: Script
    private let tunnels: TunnelScript
    private let connects: ConnectScript
    private let state = Mutex(State())

    public init(
        connects: @escaping ConnectScript = { _ in nil },
        tunnels: @escaping TunnelScript = { _, _, _ in .refused("the scripted executor has no tunnels") },
        _ script: @escaping Script
    ) {
        self.script = script
        self.tunnels = tunnels
        self.connects = connects
    }

    /// Every command succeeds with no output.
    public convenience init() {
        self.init { _, _ in .result(CommandResult(exitStatus: 0)) }
    }

    /// Every `run` so far, in call order.
    public var calls: [(host: String, command: String)] { state.withLock { $0.calls } }
    /// The most commands that were running at the same time.
    public var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    /// Lets every command held at `gate` (now and later) go on.
    public func release(_ gate: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open.insert(gate)
            return (s.waiting.removeValue(forKey: gate) ?? []).map(\.1)
        }
        for w in waiters { w.resume() }
    }

    /// Returns once `count` commands have reached `gate` (held there or passed it).
    public func waitForArrivals(at gate: String, count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.arrived[gate, default: 0] >= count { return true }
                s.arrivalWaiters.append((gate, count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    public func connect(_ host: Host) async throws -> ConnectionInfo {
        if let kind = connects(host.name) {
            state.withLock { $0.calls.append((host.name, "connect")) }
            throw RemoteError(kind, host: host.name, "scripted: \(kind.rawValue)")
        }
        return ConnectionInfo(
            serverBanner: "SSH-2.0-scripted", hostKeyType: "ssh-ed25519",
            hostKeyFingerprint: "SHA256:scripted", authenticatedWith: "script", setupDuration: .zero)
    }

    public func run(_ command: RemoteCommand, on host: Host) async throws -> CommandResult {
        if let kind = connects(host.name) { throw RemoteError(kind, host: host.name, "scripted: \(kind.rawValue)") }
        state.withLock { s in
            s.calls.append((host.name, command.display))
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        var reply = script(host.name, command)
        while case .held(let gate, let then) = reply {
            await hold(at: gate)
            try Task.checkCancellation()
            reply = then
        }
        switch reply {
        case .result(let r): return r
        case .error(let kind, let message): throw RemoteError(kind, host: host.name, message)
        case .held: fatalError("unreachable: held replies are unwrapped above")
        }
    }

    /// Waits at `gate` until it is released, or until the waiting task is cancelled (as a
    /// real command ends when its task is: the caller then sees the cancellation).
    private func hold(at gate: String) async {
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1; return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let (pass, arrivals) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                    s.arrived[gate, default: 0] += 1
                    let n = s.arrived[gate]!
                    var ready: [CheckedContinuation<Void, Never>] = []
                    s.arrivalWaiters.removeAll { w in
                        if w.gate == gate && n >= w.count { ready.append(w.2); return true }
                        return false
                    }
                    if s.open.contains(gate) || s.cancelledWaiters.remove(id) != nil { return (true, ready) }
                    s.waiting[gate, default: []].append((id, c))
                    return (false, ready)
                }
                for a in arrivals { a.resume() }
                if pass { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                if let i = s.waiting[gate]?.firstIndex(where: { $0.id == id }) { return s.waiting[gate]!.remove(at: i).1 }
                s.cancelledWaiters.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }

    public func upload(_ source: UploadSource, to remotePath: String, mode: Int, on host: Host) async throws {
        state.withLock { $0.calls.append((host.name, "upload \(remotePath)")) }
    }

    public func openTunnel(to targetHost: String, port: Int, on host: Host) async throws -> any RemoteTunnel {
        state.withLock { $0.calls.append((host.name, "tunnel \(targetHost):\(port)")) }
        var reply = tunnels(host.name, targetHost, port)
        while case .held(let gate, let then) = reply {
            await hold(at: gate)
            try Task.checkCancellation()
            reply = then
        }
        switch reply {
        case .bytes(let b): return ScriptedTunnel(b)
        case .refused(let why): throw RemoteError(.channelFailed, host: host.name, why)
        case .held: fatalError("unreachable: held replies are unwrapped above")
        }
    }

    public func disconnect(_ host: Host) async {}
    public func shutdown() async {}
}

/// A tunnel whose far side sends fixed bytes, then closes.
final class ScriptedTunnel: RemoteTunnel {
    private let pending: Mutex<[UInt8]?>
    init(_ bytes: [UInt8]) { pending = Mutex(bytes) }
    func write(_ bytes: [UInt8]) async throws {}
    func read() async throws -> [UInt8]? {
        pending.withLock { p in
            defer { p = nil }; return p
        }
    }
    func close() async {}
}
