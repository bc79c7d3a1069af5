#if canImport(Glibc)
import Glibc
#endif
import AimosCore

/// A progress bar on stderr (slices done, rate, time left), drawn only when stderr is a
/// terminal. Ctrl-C sets a flag that the next progress report turns into a clean cancel.
final class ProgressBar {
    private let enabled: Bool
    private let start = MonotonicClock.seconds
    private var lastDraw = 0.0
    private let unit: String
    nonisolated(unsafe) static var interrupted: sig_atomic_t = 0

    init(quiet: Bool, unit: String = "slices") {
        self.unit = unit
        enabled = !quiet && isatty(STDERR_FILENO) != 0
        signal(SIGINT) { _ in ProgressBar.interrupted = 1 }
    }

    /// The engine's progress callback: draws, and returns false once Ctrl-C was pressed.
    func update(done: Int64, total: Int64) -> Bool {
        if ProgressBar.interrupted != 0 { return false }
        guard enabled else { return true }
        let t = MonotonicClock.seconds
        guard done == total || t - lastDraw > 0.1 else { return true }
        lastDraw = t
        let elapsed = t - start
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let width = 30
        let filled = total > 0 ? Int(Double(width) * Double(done) / Double(total)) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "\r[\(bar)] \(done)/\(total) \(unit)  \(format(rate)) \(unit)/s  \(clock(left)) left "
        fputs(line, stderr)
        if done == total { fputs("\n", stderr) }
        return true
    }

    private func format(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let m = s / 60, r = s % 60
        return "\(m / 10)\(m % 10):\(r / 10)\(r % 10)"
    }
}
