#if canImport(Glibc)
import Glibc
#endif
import CBLAS

/// Options of one segmentation run (the Swift side of aimos_options).
public struct SegmentationOptions {
    /// nil: the model's own axis.
    public var sliceAxis: Int?
    /// 0: one worker per online core.
    public var threads: Int = 0
    public var keepProbabilities = false
    /// Called after each slice with (done, total); return false to cancel.
    public var progress: ((Int64, Int64) -> Bool)?

    public init(sliceAxis: Int? = nil, threads: Int = 0, keepProbabilities: Bool = false,
                progress: ((Int64, Int64) -> Bool)? = nil) {
        self.sliceAxis = sliceAxis
        self.threads = threads
        self.keepProbabilities = keepProbabilities
        self.progress = progress
    }
}

/// aimos parallelises over slices itself, one OpenBLAS call per worker: OpenBLAS's own
/// threads would only oversubscribe the cores. Set once, process-wide.
private let openBLASSingleThreaded: Void = { openblas_set_num_threads(1) }()

extension AimosModel {
    /// Segments a volume slice by slice (the published AIMOS inference; see SliceProcessor).
    public func segment(_ volume: VoxelVolume, options: SegmentationOptions = SegmentationOptions()) throws -> SegmentationResult {
        let axis = options.sliceAxis ?? metadata.values.sliceAxis
        guard (0...2).contains(axis) else { throw AimosError.invalid("slice axis \(axis) is not 0, 1 or 2") }
        guard options.threads >= 0, options.threads <= 1024 else {
            throw AimosError.invalid("thread count \(options.threads) is not 0 (all cores) or 1..1024")
        }
        _ = openBLASSingleThreaded
        let geometry = SliceGeometry(dims: volume.dims, axis: axis)
        let result = try SegmentationResult(dims: volume.dims, spacing: volume.spacing, sliceAxis: axis, classCount: classes.count,
                                            keepProbabilities: options.keepProbabilities, uncertainty: hasUncertainty)
        let makeProcessor = { try SliceProcessor(model: self, geometry: geometry, keepProbabilities: options.keepProbabilities) }
        let first = try makeProcessor()
        // No more workers than half the machine's memory holds: malloc succeeds lazily on Linux,
        // so too many would be killed later by the kernel rather than fail here.
        let workers = min(options.threads == 0 ? ParallelFor.coreCount : options.threads, geometry.sliceCount,
                          max(1, ParallelFor.physicalMemory / 2 / max(1, first.bytes)))
        let processors = try [first] + (1..<max(1, workers)).map { _ in try makeProcessor() }
        let queue = SliceQueue(total: geometry.sliceCount, progress: options.progress)
        ParallelFor.run(workers: workers) { worker in
            let processor = processors[worker]
            while let slice = queue.take() {
                processor.process(volume: volume, slice: slice, into: result)
                queue.finished()
            }
        }
        if queue.wasCancelled {
            throw AimosError(.cancelled, "segmentation cancelled by the progress callback")
        }
        result.countLabels()
        return result
    }
}
