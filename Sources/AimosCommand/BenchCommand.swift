import AimosCore
import AimosPipeline
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `aimos bench`: times the engine on a model with random weights and a float32 volume made in
/// memory (no files), the way a viewer calls it (AimosModel.segment, behind
/// aimos_segment_volume): seconds per slice, effective GFLOP/s, the kernel path, peak memory.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the engine on random weights (no files): seconds per slice, GFLOP/s, kernel path, memory.")

    @Option(help: "Architecture: Unet64, Unet128, Unet256, Unet512, Unet768 or Unet1024.")
    var architecture = "Unet768"
    @Option(help: "Model input size (slices are made at this size, so no resizing is timed beyond the identity).")
    var size = 256
    @Option(help: "Slices per run.")
    var slices = 8
    @Option(help: "Threads (0: every core).")
    var threads = 2
    @Option(help: "Output classes (background included).")
    var classes = 11
    @Option(help: "Timed runs after one warm-up run; the median is reported.")
    var runs = 3
    @Option(help: "Kernel path: auto, generic, avx2, avx512 or reference (default: AIMOS_CPU_KERNELS, else auto).")
    var kernels: String?
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard UNetArchitecture.named(architecture) != nil else { throw ValidationError("unknown architecture '\(architecture)'") }
        guard (16...1024).contains(size) else { throw ValidationError("--size must be 16 to 1024") }
        guard (1...4096).contains(slices) else { throw ValidationError("--slices must be 1 to 4096") }
        guard (0...1024).contains(threads) else { throw ValidationError("--threads must be 0 to 1024") }
        guard (2...64).contains(classes) else { throw ValidationError("--classes must be 2 to 64") }
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be 1 to 100") }
    }

    func run() throws {
        let arch = UNetArchitecture.named(architecture)!
        let path: CPUKernelPath? = try kernels.map { name in
            if name == "auto" { return CPUKernelPath.best }
            guard let p = CPUKernelPath(rawValue: name) else {
                throw ValidationError("--kernels '\(name)' is not auto, generic, avx2, avx512 or reference")
            }
            return p
        }
        let loadStart = MonotonicClock.seconds
        let model = try JobError.at(.model) {
            try AimosModel(randomWeights: arch, classes: classes, inputSize: size, kernels: path)
        }
        let prepareSeconds = MonotonicClock.seconds - loadStart
        // A smooth float32 volume (a sum of sines), so the z-score and the network see structure.
        var voxels = [Float](repeating: 0, count: size * size * slices)
        for z in 0..<slices {
            for y in 0..<size {
                for x in 0..<size {
                    voxels[(z * size + y) * size + x] = sinf(Float(x) * 0.05 + Float(z)) + cosf(Float(y) * 0.07) * 0.5
                }
            }
        }
        var times: [Double] = []
        try voxels.withUnsafeBytes { raw in
            let volume = try VoxelVolume(data: raw.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                         dims: [Int64(size), Int64(size), Int64(slices)], spacing: [0.1, 0.1, 0.1])
            let options = SegmentationOptions(sliceAxis: 2, threads: threads)
            for run in 0...runs {
                let start = MonotonicClock.seconds
                _ = try model.segment(volume, options: options)
                if run > 0 { times.append(MonotonicClock.seconds - start) }
            }
        }
        let median = times.sorted()[times.count / 2]
        let perSlice = median / Double(slices)
        let flops = 2 * Double(arch.multiplyAccumulates(inputSize: size, outputChannels: classes))
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMiB = Double(usage.ru_maxrss) / 1024
        let usedThreads = threads == 0 ? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) : threads
        let peak = CPUKernelPath.measuredPeakGFLOPs(path: model.kernelPath, threads: usedThreads)
        if json {
            let result: JSONValue = .object([
                ("architecture", .string(arch.name)), ("size", .int(size)), ("slices", .int(slices)), ("threads", .int(usedThreads)),
                ("kernels", .string(model.kernelPath.rawValue)), ("cpu", .string(CPUKernelPath.cpuDescription)),
                ("seconds_per_slice", .real(perSlice)), ("gflop_per_slice", .real(flops / 1e9)), ("gflops", .real(flops / perSlice / 1e9)),
                ("machine_peak_gflops", .real(peak)), ("fraction_of_peak", .real(flops / perSlice / 1e9 / peak)),
                ("peak_mib", .real(peakMiB)), ("prepared_weight_mib", .real(Double(model.preparedWeightBytes) / 1048576)),
                ("prepare_seconds", .real(prepareSeconds)), ("runs", .array(times.map { .real($0) })),
            ])
            print(result.serialized())
        } else {
            print("cpu:              \(CPUKernelPath.cpuDescription)")
            print("kernels:          \(model.kernelPath.rawValue) (supported: \(CPUKernelPath.supported.map(\.rawValue).joined(separator: ", ")))")
            print("model:            \(arch.name), \(classes) classes, input \(size) x \(size), random weights")
            print("work:             \(slices) slices, \(usedThreads) threads, \(runs) runs after a warm-up (median)")
            print("seconds per slice: \(fixed(perSlice, 4))")
            print("GFLOP per slice:  \(fixed(flops / 1e9, 2)) (effective \(fixed(flops / perSlice / 1e9, 1)) GFLOP/s)")
            print("machine peak:     \(fixed(peak, 1)) GFLOP/s on \(usedThreads) threads (FMA loop); effective/peak \(fixed(flops / perSlice / 1e9 / peak, 2))")
            print("prepare:          \(fixed(prepareSeconds, 2)) s (weights \(fixed(Double(model.preparedWeightBytes) / 1048576, 1)) MiB as prepared)")
            print("peak memory:      \(fixed(peakMiB, 1)) MiB (whole process)")
        }
    }
}
