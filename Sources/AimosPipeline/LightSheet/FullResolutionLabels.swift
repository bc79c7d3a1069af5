import AimosCore
import CTiffBridge

/// The label map at the stack's own resolution, as one uint8 TIFF per stack plane
/// (labels_00000.tif, ...): each working voxel's label repeated over the block of stack voxels
/// it averaged (nearest upsampling), built one working plane at a time and written once per
/// stack plane, so the full-resolution volume is never held.
package enum FullResolutionLabels {
    /// The plane files' name for stack plane z of `planes`.
    package static func planeName(_ z: Int, planes: Int) -> String {
        let digits = max(5, String(planes - 1).count)
        let number = String(z)
        return "labels_" + String(repeating: "0", count: digits - number.count) + number + ".tif"
    }

    /// Whether `name` is one of the plane files this writer makes.
    static func isPlaneName(_ name: String) -> Bool {
        guard name.hasPrefix("labels_"), name.hasSuffix(".tif") else { return false }
        let digits = name.dropFirst(7).dropLast(4)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Before any work: an existing folder is replaced only with --overwrite, only when it holds
    /// nothing but such planes (a folder of the user's files is never emptied), and never when
    /// an input lies inside it.
    package static func checkReplaceable(_ folder: String, overwrite: Bool, inputs: [String]) throws {
        guard FolderListing.isDirectory(folder) else { return }
        guard overwrite else { throw AimosError(.io, "'\(folder)' exists; use --overwrite to replace it") }
        let inside = Provenance.absolutePath(folder) + "/"
        if let input = inputs.first(where: { Provenance.absolutePath($0).hasPrefix(inside) }) {
            throw AimosError(.invalidArgument, "--full-resolution-labels '\(folder)' holds the input '\(input)'; give a new folder")
        }
        if let stranger = try FolderListing.entries(in: folder).first(where: { !isPlaneName($0) }) {
            throw AimosError(.io, "'\(folder)' holds '\(stranger)', which aimos did not write; --overwrite replaces a folder of label planes (labels_00000.tif, ...) only: give a new folder")
        }
    }

    /// Writes every plane into `folder` (which exists and is empty). `labels`: the working
    /// grid's label map (x fastest). `progress(planesWritten, planes)` returns false to cancel.
    package static func write(_ labels: UnsafePointer<UInt8>, grid: WorkingGrid, classes: [String], to folder: String,
                              progress: ((Int, Int) -> Bool)? = nil) throws {
        let width = grid.nativeDims[0], height = grid.nativeDims[1], planes = grid.nativeDims[2]
        let dims = grid.dims, k = grid.factors
        let arena = BufferArena()
        let plane = try arena.allocate(UInt8.self, count: width * height, zeroed: false, what: "one full-resolution label plane")
        let names = classes.enumerated().map { (String($0.offset), JSONValue.string($0.element)) }
        let description = JSONValue.object([
            ("generator", .string("aimos \(AimosInfo.version)")),
            ("voxel_size_mm", .array(grid.nativeSpacing.map { .real($0) })),
            ("labels", .object(names)),
        ]).serialized()
        var message = [CChar](repeating: 0, count: 512)
        for wz in 0..<dims[2] {
            let source = labels + wz * dims[0] * dims[1]
            for y in 0..<height {
                let row = source + (y / k[1]) * dims[0], target = plane + y * width
                for x in 0..<width { target[x] = row[x / k[0]] }
            }
            for z in (wz * k[2])..<min((wz + 1) * k[2], planes) {
                let path = folder + "/" + planeName(z, planes: planes)
                guard tb_write_uint8_plane(path, plane, Int64(width), Int64(height), description, &message, message.count) == 0 else {
                    throw AimosError(.io, "cannot write '\(path)': \(String(cString: message))")
                }
                if let report = progress, !report(z + 1, planes) {
                    throw AimosError(.cancelled, "writing the full-resolution labels cancelled")
                }
            }
        }
    }
}
