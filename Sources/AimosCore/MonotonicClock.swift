#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock (for timing: unaffected by changes to the wall clock).
package enum MonotonicClock {
    package static var seconds: Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
