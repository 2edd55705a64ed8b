import CFleetPosix
import Foundation
import Synchronization

/// Something the reactor drives: a socket's readiness and a deadline. Called on the
/// reactor thread only.
protocol ReactorHandler: AnyObject {
    /// The socket became readable, writable, or failed (the peer closed it, or an error).
    func socketReady(readable: Bool, writable: Bool, failed: Bool)
    /// The earliest monotonic time (ns) at which `deadlinePassed` must be called, if any.
    var nextDeadline: UInt64? { get }
    /// Called once `nextDeadline` has passed.
    func deadlinePassed(now: UInt64)
}

/// An event loop on a thread of its own: epoll over the sockets it owns, one deadline per
/// handler, and closures submitted from any thread. Everything libssh2 does happens here,
/// so no blocking call ever runs on Swift's cooperative pool, and hundreds of sessions
/// need no more threads than this one.
final class Reactor: @unchecked Sendable {
    // @unchecked: `handlers`, `interest` and `running` are touched only on the reactor
    // thread; the submission queue is behind a Mutex; the fds are immutable after init.
    private let epollFd: Int32
    let wakeFd: Int32
    private let queue = Mutex<[@Sendable () -> Void]>([])
    private var handlers: [Int32: ReactorHandler] = [:]
    private var interest: [Int32: UInt32] = [:]
    private var running = true
    private var thread: Thread?
    /// A read buffer shared by every session of this reactor (used on its thread only),
    /// so idle connections cost no buffer of their own.
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 * 1024, alignment: 16)
    /// Set when the loop has ended (after `shutdown`); read from any thread.
    private let stoppedFlag = Atomic<Bool>(false)
    var hasStopped: Bool { stoppedFlag.load(ordering: .acquiring) }
    /// Handlers that asked to be driven again before the next wait (fairness cap hit).
    private var again: [ReactorHandler] = []

    init(name: String) throws {
        epollFd = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epollFd >= 0, wakeFd >= 0 else { throw POSIXError.current("epoll/eventfd") }
        var ev = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFd))
        epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &ev)
        // The thread holds the reactor until its loop ends, so the reactor (and its fds)
        // outlive every event the loop handles.
        let thread = Thread { self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// The fds close only here, when nothing can reach the reactor any more. Closing them
    /// when the loop ends was a real bug: a late `submit` (a second shutdown) then wrote
    /// its 8 bytes into whatever socket had reused the eventfd's number, and the SSH
    /// stream of an unrelated connection broke ("Bad packet length 16777216" on the
    /// server: the bytes 01 00 00 00 read as a packet length).
    deinit {
        close(epollFd)
        close(wakeFd)
        scratch.deallocate()
    }

    /// Runs `work` on the reactor thread (soon; in submission order).
    func submit(_ work: @escaping @Sendable () -> Void) {
        queue.withLock { $0.append(work) }
        var one: UInt64 = 1
        _ = write(wakeFd, &one, 8)
    }

    /// Stops the loop after the work already submitted has run.
    func shutdown() {
        submit { [unowned self] in self.running = false }
    }

    // MARK: reactor-thread API

    /// Starts watching `fd` for `handler`.
    func register(_ fd: Int32, _ handler: ReactorHandler, readable: Bool, writable: Bool) {
        handlers[fd] = handler
        let events = mask(readable, writable)
        interest[fd] = events
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev)
    }

    /// Changes what `fd` is watched for (no system call when nothing changes).
    func update(_ fd: Int32, readable: Bool, writable: Bool) {
        let events = mask(readable, writable)
        guard interest[fd] != events, handlers[fd] != nil else { return }
        interest[fd] = events
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        epoll_ctl(epollFd, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Stops watching `fd` (call before closing it).
    func unregister(_ fd: Int32) {
        guard handlers.removeValue(forKey: fd) != nil else { return }
        interest.removeValue(forKey: fd)
        epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, nil)
    }

    /// Asks for `handler.deadlinePassed` to be called before the reactor waits again.
    func driveAgainSoon(_ handler: ReactorHandler) {
        again.append(handler)
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    // MARK: the loop

    /// Peer hang-ups (EPOLLRDHUP) are always watched, so a connection that is not reading
    /// still learns that its host closed it.
    private func mask(_ readable: Bool, _ writable: Bool) -> UInt32 {
        (readable ? EPOLLIN.rawValue : 0) | (writable ? EPOLLOUT.rawValue : 0) | EPOLLRDHUP.rawValue
    }

    private func loop() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        // The earliest deadline, found by the same pass over the handlers that fires the due
        // ones (one pass per round: with hundreds of connections this loop is the hot path).
        var earliest: UInt64?
        while running {
            let timeout = again.isEmpty ? Self.waitMilliseconds(until: earliest) : 0
            let n = epoll_wait(epollFd, &events, Int32(events.count), timeout)
            if n < 0 && errno != EINTR { fatalError("epoll_wait: \(String(cString: strerror(errno)))") }
            for i in 0..<max(0, Int(n)) {
                let fd = events[i].data.fd
                if fd == wakeFd {
                    var value: UInt64 = 0
                    _ = read(wakeFd, &value, 8)
                    continue
                }
                let e = events[i].events
                handlers[fd]?.socketReady(
                    readable: e & EPOLLIN.rawValue != 0,
                    writable: e & EPOLLOUT.rawValue != 0,
                    failed: e & (EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0)
            }
            let work = queue.withLock { q -> [@Sendable () -> Void] in
                defer { q.removeAll(keepingCapacity: true) }
                return q
            }
            for w in work { w() }
            let now = Reactor.now()
            let retry = again
            again.removeAll(keepingCapacity: true)
            for h in retry { h.deadlinePassed(now: now) }
            earliest = nil
            for h in handlers.values {
                guard var d = h.nextDeadline else { continue }
                if d <= now {
                    h.deadlinePassed(now: now)
                    guard let next = h.nextDeadline else { continue }
                    d = next
                }
                if d < (earliest ?? .max) { earliest = d }
            }
        }
        thread = nil
        stoppedFlag.store(true, ordering: .releasing)
    }

    /// Milliseconds until `earliest` (rounded up, so a wake is never early), or -1.
    private static func waitMilliseconds(until earliest: UInt64?) -> Int32 {
        guard let earliest else { return -1 }
        let now = Reactor.now()
        if earliest <= now { return 0 }
        return Int32(min((earliest - now + 999_999) / 1_000_000, 60_000))
    }
}

extension POSIXError {
    /// The error for the current `errno`, with what was being done.
    static func current(_ what: String) -> Error {
        let code = errno
        return NSError(
            domain: NSPOSIXErrorDomain, code: Int(code),
            userInfo: [NSLocalizedDescriptionKey: "\(what): \(String(cString: strerror(code)))"])
    }
}
