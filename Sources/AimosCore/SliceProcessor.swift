#if canImport(Glibc)
import Glibc
#endif

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
    let workspace: NetworkWorkspace
    let slice, resizeScratch, input, memberProbabilities, probabilities, resampled: UnsafeMutablePointer<Float>
    let gridLabels: UnsafeMutablePointer<UInt8>
    private let arena: BufferArena
    /// Bytes this worker allocated (its U-Net workspace included).
    var bytes: Int { arena.bytes + workspace.bytes }

    /// `threads`: how many threads split each slice's forward pass (1: this worker alone).
    init(model: AimosModel, geometry: SliceGeometry, keepProbabilities: Bool, threads: Int = 1) throws {
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
        workspace = try model.networks[0].makeWorkspace(threads: threads)
        let arena = BufferArena()
        let grid = size * size
        slice = try arena.floats(geometry.pixelsPerSlice, "a slice")
        resizeScratch = try arena.floats(resize.scratchCount, "the resize scratch")
        input = try arena.floats(grid, "the model input")
        // Per-member outputs are needed only to take an ensemble's median.
        memberProbabilities = try arena.floats(model.networks.count > 1 ? model.networks.count * channels * grid : 1, "the member outputs")
        probabilities = try arena.floats(channels * grid, "the probabilities")
        resampled = try arena.floats(geometry.pixelsPerSlice, "a resampled map")
        gridLabels = try arena.allocate(UInt8.self, count: grid, what: "the model-grid labels")
        self.arena = arena
    }

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
        for (m, member) in model.networks.enumerated() {
            let out = model.networks.count == 1 ? probabilities : memberProbabilities + m * channels * grid
            member.forward(input: input, batch: 1, output: out, sigmoid: true, workspace: workspace)
        }
        if model.networks.count > 1 {
            EnsembleMedian.run(members: UnsafePointer(memberProbabilities), memberCount: model.networks.count,
                               elementCount: channels * grid, output: probabilities)
        }
    }

    /// Segments one slice on the model grid only (into `gridLabels`) and returns how much
    /// organ the model finds and how sure it is: the sum over model-grid pixels labelled an
    /// organ of the margin between the two highest class probabilities, over the pixel count
    /// (0 for a flat slice). OrientationDetector compares it between layouts.
    func organEvidence(volume: VoxelVolume, slice index: Int) -> Double {
        let flat = !prepareInput(volume: volume, slice: index)
        computeProbabilities(flat: flat)
        labelGrid()
        if flat { return 0 }
        let grid = size * size
        var total = 0.0
        for i in 0..<grid where gridLabels[i] != 0 {
            var best: Float = 0, second: Float = 0
            for c in 0..<classCount {
                let p = probabilities[c * grid + i]
                if p > best { (second, best) = (best, p) } else if p > second { second = p }
            }
            total += Double(best - second)
        }
        return total / Double(grid)
    }

    /// Step 4 on the model grid: argmax over the class channels (not the uncertainty channel);
    /// the first maximum wins.
    private func labelGrid() {
        let grid = size * size
        for i in 0..<grid {
            var best = 0
            var bestValue = probabilities[i]
            for c in 1..<classCount where probabilities[c * grid + i] > bestValue {
                best = c
                bestValue = probabilities[c * grid + i]
            }
            gridLabels[i] = UInt8(best)
        }
    }

    /// Segments one slice into `result`; with `ownership`, voxels that another animal's body
    /// covers are left to that animal.
    func process(volume: VoxelVolume, slice index: Int, into result: SegmentationResult,
                 ownership: VoxelOwnership? = nil, animal: Int = 0) {
        let flat = !prepareInput(volume: volume, slice: index)
        computeProbabilities(flat: flat)
        labelGrid()
        for r in 0..<geometry.rows {
            for c in 0..<geometry.cols {
                var label: UInt8 = 0
                if let sr = rowSource[r], let sc = colSource[c] { label = gridLabels[sr * size + sc] }
                let voxel = geometry.voxelIndex(slice: index, row: r, col: c)
                if let ownership = ownership {
                    let owner = ownership.owner(ofVoxel: voxel)
                    if owner >= 0 && owner != animal { continue }
                }
                result.labels[voxel] = label
            }
        }
        // Step 5.
        if keepProbabilities {
            for c in 0..<classCount {
                scatterResampled(channel: c, slice: index, into: result.probabilities[c], ownership: ownership, animal: animal)
            }
        }
        if let uncertainty = result.uncertainty {
            scatterResampled(channel: channels - 1, slice: index, into: uncertainty, ownership: ownership, animal: animal)
        }
    }

    private func scatterResampled(channel: Int, slice index: Int, into target: UnsafeMutablePointer<Float>,
                                  ownership: VoxelOwnership?, animal: Int) {
        BilinearAlignCorners.run(input: probabilities + channel * size * size, inHeight: size, inWidth: size,
                                 output: resampled, outHeight: geometry.rows, outWidth: geometry.cols, channels: 1)
        for r in 0..<geometry.rows {
            for c in 0..<geometry.cols {
                let voxel = geometry.voxelIndex(slice: index, row: r, col: c)
                if let ownership = ownership {
                    let owner = ownership.owner(ofVoxel: voxel)
                    if owner >= 0 && owner != animal { continue }
                }
                target[voxel] = resampled[r * geometry.cols + c]
            }
        }
    }
}
