#if canImport(Glibc)
import Glibc
#endif
import CBLAS

/// Options of one segmentation run (the Swift side of aimos_options). The defaults are the
/// published behaviour (no crop unless the model declares one, the voxel axes taken as the
/// model's); the `aimos` command and aimos_options_init choose `orientation: .auto`.
package struct SegmentationOptions {
    /// With orientation none only; nil: the model's own axis.
    package var sliceAxis: Int?
    /// 0: one worker per online core.
    package var threads: Int = 0
    package var keepProbabilities = false
    package var orientation: OrientationChoice = .none
    /// The volume's voxel-to-world matrix (3x3, RAS+), needed by orientation .header.
    package var worldMatrix: [[Double]]?
    package var crop: CropChoice = .model
    /// Segment every animal found in its own crop and layout (with cropping); false: only the largest.
    package var separateAnimals = true
    /// The animals already found in this very volume (BodyFinder.find), reused instead of
    /// searching again; nil: searched here when needed.
    package var body: BodyFinder.Outcome?
    /// Called after each slice with (done, total); return false to cancel.
    package var progress: ((Int64, Int64) -> Bool)?

    /// The most worker threads a caller may ask for.
    package static let maxThreads = 1024

    /// The one check of these options (the engine, the C ABI and the command all use it): an
    /// error names the problem and the allowed values.
    package func validate() throws {
        if let axis = sliceAxis {
            guard (0...2).contains(axis) else { throw AimosError.invalid("slice axis \(axis) is not 0, 1 or 2") }
            guard orientation == .none else {
                throw AimosError.invalid("a slice axis \(axis) is given only with orientation none (the scan's layout decides the axis otherwise)")
            }
        }
        guard threads >= 0, threads <= SegmentationOptions.maxThreads else {
            throw AimosError.invalid("thread count \(threads) is not 0 (all cores) or 1...\(SegmentationOptions.maxThreads)")
        }
    }

    package init(sliceAxis: Int? = nil, threads: Int = 0, keepProbabilities: Bool = false,
                orientation: OrientationChoice = .none, crop: CropChoice = .model,
                progress: ((Int64, Int64) -> Bool)? = nil) {
        self.sliceAxis = sliceAxis
        self.threads = threads
        self.keepProbabilities = keepProbabilities
        self.orientation = orientation
        self.crop = crop
        self.progress = progress
    }
}

/// The reference backend parallelises over slices itself, one OpenBLAS call per worker:
/// OpenBLAS's own threads would only oversubscribe the cores. Set once, process-wide.
private let openBLASSingleThreaded: Void = { openblas_set_num_threads(1) }()

extension AimosModel {
    /// Segments a volume slice by slice (the published AIMOS inference; see SliceProcessor),
    /// each animal in its own crop and layout when asked (BodyFinder, OrientationDetector).
    package func segment(_ volume: VoxelVolume, options: SegmentationOptions = SegmentationOptions()) throws -> SegmentationResult {
        try options.validate()
        if kernelPath == .reference { _ = openBLASSingleThreaded }
        let meta = metadata.values
        let cropping = options.crop == .body || (options.crop == .model && meta.cropsToBody)
        let needsBody = cropping || options.orientation == .auto
        let body = needsBody ? try (options.body ?? BodyFinder.find(volume)) : nil
        // Without separating, the largest animal only.
        let largest = body?.animals.max { $0.bodyMM3 < $1.bodyMM3 }
        let boxes = cropping ? (options.separateAnimals ? body!.animals.map(\.box) : [largest!.box])
            : [VoxelBox(dims: volume.dims)]
        let ownership = cropping && options.separateAnimals ? body?.ownership : nil
        let coreWorkers = options.threads == 0 ? ParallelFor.coreCount : options.threads

        var layouts: [AnimalLayout] = []
        for (animal, box) in boxes.enumerated() {
            switch options.orientation {
            case .none:
                let axis = options.sliceAxis ?? meta.sliceAxis
                let full = SliceGeometry(dims: volume.dims, axis: axis)
                let geometry = SliceGeometry(dims: volume.dims, sliceAxis: axis, rowAxis: full.rowAxis, colAxis: full.colAxis, box: box)
                layouts.append(AnimalLayout(box: box, orientation: nil, confidence: nil, geometry: geometry))
            case .code(let code):
                layouts.append(AnimalLayout(box: box, orientation: code, confidence: nil,
                                            geometry: SliceGeometry(dims: volume.dims, scan: code, model: meta.orientation, box: box)))
            case .header:
                guard let matrix = options.worldMatrix else {
                    throw AimosError.invalid("orientation header needs the volume's world matrix (aimos_options.world_matrix)")
                }
                let code = try AnatomicalOrientation.fromWorldMatrix(matrix)
                layouts.append(AnimalLayout(box: box, orientation: code, confidence: nil,
                                            geometry: SliceGeometry(dims: volume.dims, scan: code, model: meta.orientation, box: box)))
            case .auto:
                // The body axis comes from the animal's body, even when slices are not cropped.
                let found = cropping && options.separateAnimals ? body!.animals[animal] : largest!
                let detection = try OrientationDetector.detect(model: self, volume: volume, box: box, body: found,
                                                               spacing: volume.spacing, workers: coreWorkers)
                layouts.append(AnimalLayout(box: box, orientation: detection.orientation, confidence: detection.confidence,
                                            geometry: SliceGeometry(dims: volume.dims, scan: detection.orientation,
                                                                    model: meta.orientation, box: box)))
            }
        }

        let result = try SegmentationResult(dims: volume.dims, spacing: volume.spacing, classCount: classes.count,
                                            keepProbabilities: options.keepProbabilities, uncertainty: hasUncertainty)
        let total = layouts.reduce(0) { $0 + $1.geometry.sliceCount }
        let queue = SliceQueue(total: total, progress: options.progress)
        for (animal, layout) in layouts.enumerated() {
            try run(layout.geometry, volume: volume, result: result, queue: queue, workers: coreWorkers,
                    keepProbabilities: options.keepProbabilities, ownership: ownership, animal: animal)
            if queue.wasCancelled { break }
        }
        if queue.wasCancelled {
            throw AimosError(.cancelled, "segmentation cancelled by the progress callback")
        }
        if options.orientation == .auto {
            for k in layouts.indices {
                OrientationDetector.resolveSliceDirection(&layouts[k], result: result, classes: classes, model: meta.orientation)
            }
        }
        result.layouts = layouts
        result.ownership = ownership
        result.bodyLengthMM = body?.bodyLengthMM
        result.suggestedVoxelSizeFactor = body?.suggestedVoxelSizeFactor
        if cropping { result.markOutsideBoxesBackground() }
        result.countLabels()
        return result
    }

    /// Segments every slice of one geometry into `result`, on `workers` threads sharing `queue`.
    private func run(_ geometry: SliceGeometry, volume: VoxelVolume, result: SegmentationResult, queue: SliceQueue,
                     workers requested: Int, keepProbabilities: Bool, ownership: VoxelOwnership?, animal: Int) throws {
        // One worker per slice while there are enough slices; with fewer slices than threads,
        // each worker's slices are split over the threads left (a single slice uses them all).
        let sliceWorkers = max(1, min(requested, geometry.sliceCount))
        let threadsPerWorker = max(1, requested / sliceWorkers)
        let makeProcessor = {
            try SliceProcessor(model: self, geometry: geometry, keepProbabilities: keepProbabilities, threads: threadsPerWorker)
        }
        let first = try makeProcessor()
        // No more workers than half the machine's memory holds: malloc succeeds lazily on Linux,
        // so too many would be killed later by the kernel rather than fail here.
        let workers = min(sliceWorkers, max(1, ParallelFor.physicalMemory / 2 / max(1, first.bytes)))
        let processors = try [first] + (1..<max(1, workers)).map { _ in try makeProcessor() }
        let slices = SliceQueue(total: geometry.sliceCount, progress: nil)
        ParallelFor.run(workers: workers) { worker in
            let processor = processors[worker]
            while !queue.wasCancelled, let slice = slices.take() {
                processor.process(volume: volume, slice: slice, into: result, ownership: ownership, animal: animal)
                queue.finished()
            }
        }
    }
}
