#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(worker)` for worker = 0 ..< workers, worker 0 on the calling thread and the rest
/// on POSIX threads, and returns when all have finished. (Plain pthreads keep libaimos.so free
/// of Dispatch and Foundation.) If a thread cannot be started its share runs on the caller.
enum ParallelFor {
    private final class Job {
        let body: (Int) -> Void
        let worker: Int
        init(body: @escaping (Int) -> Void, worker: Int) { self.body = body; self.worker = worker }
    }

    static func run(workers: Int, _ body: @escaping (Int) -> Void) {
        var threads: [pthread_t] = []
        var inline: [Int] = []
        for worker in 1..<max(workers, 1) {
            let job = Unmanaged.passRetained(Job(body: body, worker: worker)).toOpaque()
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                job.body(job.worker)
                return nil
            }, job)
            if started == 0 {
                threads.append(thread)
            } else {
                Unmanaged<Job>.fromOpaque(job).release()
                inline.append(worker)
            }
        }
        body(0)
        inline.forEach(body)
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Online cores, at least 1.
    static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Physical memory in bytes.
    static var physicalMemory: Int {
        max(1, Int(sysconf(Int32(_SC_PHYS_PAGES)))) * max(1, Int(sysconf(Int32(_SC_PAGESIZE))))
    }
}

/// A mutex-guarded work queue of slice indices with progress reporting and cancellation.
final class SliceQueue {
    private var mutex = pthread_mutex_t()
    private var next = 0
    private var done: Int64 = 0
    private(set) var cancelled = false
    let total: Int
    let progress: ((Int64, Int64) -> Bool)?

    init(total: Int, progress: ((Int64, Int64) -> Bool)?) {
        self.total = total
        self.progress = progress
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    /// The next slice to process, or nil when all are taken or the run was cancelled.
    func take() -> Int? {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        guard !cancelled, next < total else { return nil }
        next += 1
        return next - 1
    }

    /// Records a finished slice and reports progress (serialised under the lock).
    func finished() {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        done += 1
        if let progress = progress, !cancelled, !progress(done, Int64(total)) { cancelled = true }
    }

    /// Stops handing out slices (used when a worker fails).
    func cancel() {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        cancelled = true
    }

    var wasCancelled: Bool {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return cancelled
    }
}

/// A pthread mutex around a closure.
final class Lock {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func run<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex); defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
