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
        let result = try SegmentationResult(dims: volume.dims, spacing: volume.spacing, classCount: classes.count,
                                            keepProbabilities: options.keepProbabilities, uncertainty: hasUncertainty)
        let workers = min(options.threads == 0 ? ParallelFor.coreCount : options.threads, geometry.sliceCount)
        let processors = try (0..<workers).map { _ in
            try SliceProcessor(model: self, geometry: geometry, keepProbabilities: options.keepProbabilities)
        }
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

/// One worker's pipeline for a slice, with its own scratch memory:
/// 1. the slice as float32, resized to the model grid with Pillow's BILINEAR filter;
/// 2. z-scored with the slice mean and unbiased standard deviation (a flat slice, std zero or
///    not finite, is background everywhere with probability 0);
/// 3. every ensemble member's logits, sigmoid, the per-voxel median over members;
/// 4. labels = argmax over the class channels on the model grid, resampled to the slice grid
///    as scipy.ndimage.zoom(order=0) does (the published AIMOS segmentStudy);
/// 5. probabilities and uncertainty resampled with bilinear align-corners interpolation.
final class SliceProcessor {
    let model: AimosModel
    let geometry: SliceGeometry
    let size: Int
    let channels: Int
    let classCount: Int
    let keepProbabilities: Bool
    let resize: PillowBilinearResize
    let rowSource: [Int?], colSource: [Int?]
    let workspace: UNetWorkspace
    let slice, resizeScratch, input, memberProbabilities, probabilities, resampled: UnsafeMutablePointer<Float>
    let gridLabels: UnsafeMutablePointer<UInt8>
    private var owned: [UnsafeMutableRawPointer] = []

    init(model: AimosModel, geometry: SliceGeometry, keepProbabilities: Bool) throws {
        let meta = model.metadata.values
        self.model = model
        self.geometry = geometry
        self.size = meta.inputSize
        self.channels = meta.outputChannels
        self.classCount = meta.classes.count
        self.keepProbabilities = keepProbabilities
        resize = PillowBilinearResize(inRows: geometry.rows, inCols: geometry.cols, outRows: size, outCols: size)
        rowSource = NearestZoom.sourceIndices(inSize: size, outSize: geometry.rows)
        colSource = NearestZoom.sourceIndices(inSize: size, outSize: geometry.cols)
        workspace = try UNetWorkspace(architecture: meta.architecture, inputSize: size)
        var taken: [UnsafeMutableRawPointer] = []
        func take(_ count: Int, _ what: String) throws -> UnsafeMutablePointer<Float> {
            let p = try RawBuffer.allocate(Float.self, count: count, what: what)
            taken.append(UnsafeMutableRawPointer(p))
            return p
        }
        do {
            let grid = size * size
            slice = try take(geometry.pixelsPerSlice, "a slice")
            resizeScratch = try take(resize.scratchCount, "the resize scratch")
            input = try take(grid, "the model input")
            memberProbabilities = try take(model.members.count * channels * grid, "the member outputs")
            probabilities = try take(channels * grid, "the probabilities")
            resampled = try take(geometry.pixelsPerSlice, "a resampled map")
            gridLabels = try RawBuffer.allocate(UInt8.self, count: grid, what: "the model-grid labels")
            taken.append(UnsafeMutableRawPointer(gridLabels))
        } catch {
            taken.forEach { free($0) }
            throw error
        }
        owned = taken
    }

    deinit { owned.forEach { free($0) } }

    /// Steps 1-2: the z-scored model input; false for a flat slice.
    func prepareInput(volume: VoxelVolume, slice index: Int) -> Bool {
        geometry.extract(volume, slice: index, into: slice)
        resize.run(input: slice, output: input, scratch: resizeScratch)
        return ZScore.normalize(input, count: size * size)
    }

    /// Steps 3: model-grid probabilities [channels][S][S] of a prepared input.
    func computeProbabilities(flat: Bool) {
        let grid = size * size
        if flat {
            probabilities.update(repeating: 0, count: channels * grid)
            return
        }
        for (m, member) in model.members.enumerated() {
            let out = model.members.count == 1 ? probabilities : memberProbabilities + m * channels * grid
            member.forward(input: input, logits: out, workspace: workspace)
            for i in 0..<(channels * grid) { out[i] = 1 / (1 + expf(-out[i])) }
        }
        if model.members.count > 1 {
            EnsembleMedian.run(members: UnsafePointer(memberProbabilities), memberCount: model.members.count,
                               elementCount: channels * grid, output: probabilities)
        }
    }

    func process(volume: VoxelVolume, slice index: Int, into result: SegmentationResult) {
        let flat = !prepareInput(volume: volume, slice: index)
        computeProbabilities(flat: flat)
        let grid = size * size
        // Step 4: argmax over the class channels (not the uncertainty channel); first maximum wins.
        for i in 0..<grid {
            var best = 0
            var bestValue = probabilities[i]
            for c in 1..<classCount where probabilities[c * grid + i] > bestValue {
                best = c
                bestValue = probabilities[c * grid + i]
            }
            gridLabels[i] = UInt8(best)
        }
        for r in 0..<geometry.rows {
            for c in 0..<geometry.cols {
                var label: UInt8 = 0
                if let sr = rowSource[r], let sc = colSource[c] { label = gridLabels[sr * size + sc] }
                result.labels[geometry.voxelIndex(slice: index, row: r, col: c)] = label
            }
        }
        // Step 5.
        if keepProbabilities {
            for c in 0..<classCount { scatterResampled(channel: c, slice: index, into: result.probabilities[c]) }
        }
        if let uncertainty = result.uncertainty {
            scatterResampled(channel: channels - 1, slice: index, into: uncertainty)
        }
    }

    private func scatterResampled(channel: Int, slice index: Int, into target: UnsafeMutablePointer<Float>) {
        BilinearAlignCorners.run(input: probabilities + channel * size * size, inHeight: size, inWidth: size,
                                 output: resampled, outHeight: geometry.rows, outWidth: geometry.cols, channels: 1)
        for r in 0..<geometry.rows {
            for c in 0..<geometry.cols {
                target[geometry.voxelIndex(slice: index, row: r, col: c)] = resampled[r * geometry.cols + c]
            }
        }
    }
}

/// Per-slice z-scoring: (x - mean) / std with the unbiased (N - 1) standard deviation, as
/// torchvision's normalize with img.mean() and img.std() in the published pipeline.
enum ZScore {
    /// Normalises in place; returns false (leaving the values) when std is zero or not finite.
    static func normalize(_ values: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        guard count > 1 else { return false }
        var sum = 0.0
        for i in 0..<count { sum += Double(values[i]) }
        let mean = sum / Double(count)
        var squares = 0.0
        for i in 0..<count {
            let d = Double(values[i]) - mean
            squares += d * d
        }
        let std = (squares / Double(count - 1)).squareRoot()
        guard std.isFinite, Float(std) > 0 else { return false }
        let m = Float(mean), s = Float(std)
        for i in 0..<count { values[i] = (values[i] - m) / s }
        return true
    }
}

/// Per-element median over ensemble members (the mean of the two middle values for an even
/// count, as numpy.median).
enum EnsembleMedian {
    static func run(members: UnsafePointer<Float>, memberCount: Int, elementCount: Int, output: UnsafeMutablePointer<Float>) {
        var values = [Float](repeating: 0, count: memberCount)
        for i in 0..<elementCount {
            for m in 0..<memberCount { values[m] = members[m * elementCount + i] }
            values.sort()
            let mid = memberCount / 2
            output[i] = memberCount % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
        }
    }
}
