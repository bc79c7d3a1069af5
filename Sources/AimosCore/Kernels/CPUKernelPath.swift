import CAimosKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which kernels run the U-Net: aimos's own (CAimosKernels), compiled per instruction set and
/// chosen from the CPU's features at run time, or the reference (im2col + OpenBLAS sgemm,
/// kept for tests to compare against). The default is the best path this CPU supports;
/// AIMOS_CPU_KERNELS=generic|avx2|avx512|reference forces one (for tests and benchmarks).
package enum CPUKernelPath: String, CaseIterable {
    case reference, generic, avx2, avx512

    package static let environmentVariable = "AIMOS_CPU_KERNELS"

    /// The kernel table of an own-kernel path; nil for the reference or where this CPU lacks it.
    var table: UnsafePointer<aimk_kernels>? {
        switch self {
        case .reference: return nil
        case .generic: return aimk_kernels_generic()
        case .avx2: return aimk_kernels_avx2()
        case .avx512: return aimk_kernels_avx512()
        }
    }

    package var isSupported: Bool { self == .reference || table != nil }

    /// Throws UNSUPPORTED, naming the path and this CPU, when this CPU cannot run the path.
    package func requireSupported() throws {
        guard isSupported else {
            throw AimosError(.unsupported, "the \(rawValue) kernels do not run on this CPU (\(Self.cpuDescription))")
        }
    }

    /// The paths this CPU can run, reference first.
    package static var supported: [CPUKernelPath] { allCases.filter(\.isSupported) }

    /// The fastest supported path.
    package static var best: CPUKernelPath { [.avx512, .avx2].first(where: \.isSupported) ?? .generic }

    /// The path AIMOS_CPU_KERNELS asks for ("" or "auto": the best); an unknown or unsupported
    /// value is an error naming it.
    package static func fromEnvironment() throws -> CPUKernelPath {
        guard let raw = getenv(environmentVariable).map({ String(cString: $0) }), !raw.isEmpty, raw != "auto" else {
            return best
        }
        guard let path = CPUKernelPath(rawValue: raw) else {
            throw AimosError.invalid("\(environmentVariable) is '\(raw.singleLineForMessages)': use generic, avx2, avx512, reference or auto")
        }
        guard path.isSupported else {
            throw AimosError(.unsupported, "\(environmentVariable)=\(raw) but this CPU (\(cpuDescription)) does not support it; it supports \(supported.map(\.rawValue).joined(separator: ", "))")
        }
        return path
    }

    /// The CPU's brand string and the features the paths need, e.g. "AMD EPYC; avx2+fma, avx512".
    package static var cpuDescription: String {
        var buffer = [CChar](repeating: 0, count: 64)
        aimk_cpu_brand(&buffer, Int32(buffer.count))
        let brand = String(cString: buffer)
        var features: [String] = []
        if aimk_cpu_has_avx2_fma() != 0 { features.append("avx2+fma") }
        if aimk_cpu_has_avx512() != 0 { features.append("avx512f/bw/vl/dq") }
        #if arch(x86_64)
        let machine = "x86-64"
        #elseif arch(arm64)
        let machine = "aarch64"
        #else
        let machine = "other"
        #endif
        return "\(brand.isEmpty ? machine : brand) (\(machine)\(features.isEmpty ? "" : "; " + features.joined(separator: ", ")))"
    }
}

private extension String {
    /// At most 40 printable characters, for quoting a user's value in a message.
    var singleLineForMessages: String {
        String(unicodeScalars.prefix(40).map { $0.value >= 32 && $0.value < 127 ? Character($0) : "?" })
    }
}

extension CPUKernelPath {
    /// The machine's fp32 peak on `threads` threads, measured: independent multiply-adds on
    /// this path's vectors (the best own path's for the reference), for about `seconds`.
    package static func measuredPeakGFLOPs(path: CPUKernelPath, threads: Int, seconds: Double = 0.3) -> Double {
        guard let table = (path.table ?? best.table)?.pointee else { return 0 }
        // Calibrate one thread's iteration count to the time asked for.
        var iterations = 1 << 20
        while true {
            let start = MonotonicClock.seconds
            _ = table.fma_peak(iterations)
            let elapsed = MonotonicClock.seconds - start
            if elapsed > seconds / 4 || iterations > 1 << 34 {
                iterations = Int(Double(iterations) * seconds / max(elapsed, 1e-9))
                break
            }
            iterations *= 4
        }
        let workers = max(1, threads)
        let lock = Lock()
        var flops = 0.0
        let start = MonotonicClock.seconds
        ParallelFor.run(workers: workers) { _ in
            let done = table.fma_peak(iterations)
            lock.run { flops += done }
        }
        return flops / (MonotonicClock.seconds - start) / 1e9
    }
}
