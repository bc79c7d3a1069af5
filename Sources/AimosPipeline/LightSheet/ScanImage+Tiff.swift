import AimosCore
import CNiftiBridge

/// How to read a light-sheet TIFF stack: its voxel size when the file records none (or to
/// replace what it records), and the working voxel size to average it down to.
package struct StackReading {
    /// mm, x, y, z (--voxel-size).
    package var voxelSize: [Double]?
    /// mm, x, y, z: --working-voxel-size, else the model's training voxel size, else
    /// WorkingGrid.fallbackVoxelSizeMM.
    package var workingVoxelSize: [Double]
    package var progress: ((Int, Int) -> Bool)?

    package init(voxelSize: [Double]? = nil, workingVoxelSize: [Double]) {
        self.voxelSize = voxelSize
        self.workingVoxelSize = workingVoxelSize
    }
}

/// Where a scan read from a TIFF stack came from: the stack and its working grid (for the
/// full-resolution label planes and the organ table's notes).
package struct StackOrigin {
    package let path: String
    package let grid: WorkingGrid
    package let sample: StackAveraging.Sample
}

extension ScanImage {
    /// A TIFF stack averaged onto its working grid, as a float32 scan whose header carries the
    /// working voxel size (and the block centres' offset in its sform).
    package convenience init(tiffPath path: String, reading: StackReading) throws {
        let stack = try TiffStack(path: path)
        guard let spacing = reading.voxelSize ?? stack.recordedVoxelSize else {
            throw AimosError(.invalidArgument, "'\(path)' records no complete voxel size (OME-XML PhysicalSizeX, Y and Z in a length unit, or ImageJ's unit, spacing and resolution); give it with --voxel-size X[,Y,Z] in mm (e.g. 0.006 for 6 um)")
        }
        guard spacing.count == 3, spacing.allSatisfy({ $0.isFinite && $0 > 0 }),
              reading.workingVoxelSize.count == 3, reading.workingVoxelSize.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw AimosError(.invalidArgument, "'\(path)': voxel sizes must be three numbers > 0 (mm)")
        }
        let grid = WorkingGrid(nativeDims: [stack.width, stack.height, stack.planes], nativeSpacing: spacing,
                               target: reading.workingVoxelSize)
        var message = [CChar](repeating: 0, count: 256)
        guard let image = nb_make_float(grid.dims.map(Int64.init), grid.affine, &message, message.count) else {
            throw AimosError(.outOfMemory, "'\(path)': cannot allocate the working grid of \(grid.dims.map(String.init).joined(separator: " x ")) voxels")
        }
        do {
            try StackAveraging.average(stack, grid: grid, into: nb_mutable_data(image).assumingMemoryBound(to: Float.self),
                                       progress: reading.progress)
        } catch {
            nb_free(image)
            throw error
        }
        try self.init(image: image, path: path, dicom: nil,
                      stack: StackOrigin(path: path, grid: grid, sample: stack.sample))
    }
}
