#if canImport(Glibc)
import Glibc
#endif

/// Threads that share the work of one slice's forward pass: each kernel call is split into
/// `size` parts, part 0 on the caller and the others on threads started once and kept waiting
/// between calls (a layer at the smallest levels takes well under a millisecond, too short to
/// start a thread for).
final class ThreadTeam {
    let size: Int
    private let shared: Shared
    private var threads: [pthread_t] = []

    /// What the team's threads see (they hold this, not the team, so the team can go away).
    private final class Shared {
        var mutex = pthread_mutex_t()
        var wake = pthread_cond_t()
        var finished = pthread_cond_t()
        var generation = 0
        var pending = 0
        var stopping = false
        var body: ((Int) -> Void)?

        init() {
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&wake, nil)
            pthread_cond_init(&finished, nil)
        }

        deinit {
            pthread_cond_destroy(&finished)
            pthread_cond_destroy(&wake)
            pthread_mutex_destroy(&mutex)
        }

        /// Runs the current body; its reference is dropped on return, before the part counts as
        /// done (run's withoutActuallyEscaping checks that no thread still holds it).
        private func runCurrent(part: Int) {
            pthread_mutex_lock(&mutex)
            let body = self.body!
            pthread_mutex_unlock(&mutex)
            body(part)
        }

        func work(part: Int) {
            var seen = 0
            while true {
                pthread_mutex_lock(&mutex)
                while generation == seen && !stopping { pthread_cond_wait(&wake, &mutex) }
                if stopping { pthread_mutex_unlock(&mutex); return }
                seen = generation
                pthread_mutex_unlock(&mutex)
                runCurrent(part: part)
                pthread_mutex_lock(&mutex)
                pending -= 1
                if pending == 0 { pthread_cond_signal(&finished) }
                pthread_mutex_unlock(&mutex)
            }
        }
    }

    private final class Start {
        let shared: Shared
        let part: Int
        init(shared: Shared, part: Int) { self.shared = shared; self.part = part }
    }

    /// A team of `size` (at least 1); fewer when threads cannot be started.
    init(size requested: Int) {
        let shared = Shared()
        var started: [pthread_t] = []
        for part in 1..<max(1, requested) {
            let start = Unmanaged.passRetained(Start(shared: shared, part: part)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
                start.shared.work(part: start.part)
                return nil
            }, start)
            if status != 0 {
                Unmanaged<Start>.fromOpaque(start).release()
                break
            }
            started.append(thread)
        }
        self.shared = shared
        threads = started
        size = started.count + 1
    }

    deinit {
        pthread_mutex_lock(&shared.mutex)
        shared.stopping = true
        pthread_cond_broadcast(&shared.wake)
        pthread_mutex_unlock(&shared.mutex)
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs body(part) for part = 0 ..< size and returns when all are done.
    func run(_ body: (Int) -> Void) {
        guard size > 1 else { return body(0) }
        withoutActuallyEscaping(body) { escaping in
            let s = shared
            pthread_mutex_lock(&s.mutex)
            s.body = escaping
            s.pending = size - 1
            s.generation += 1
            pthread_cond_broadcast(&s.wake)
            pthread_mutex_unlock(&s.mutex)
            escaping(0)
            pthread_mutex_lock(&s.mutex)
            while s.pending > 0 { pthread_cond_wait(&s.finished, &s.mutex) }
            s.body = nil
            pthread_mutex_unlock(&s.mutex)
        }
    }
}
