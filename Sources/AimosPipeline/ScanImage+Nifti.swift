import AimosCore
import CNiftiBridge

#if canImport(Glibc)
import Glibc
#endif

extension ScanImage {
    /// The NIfTI reader: NIfTI-1, NIfTI-2 or Analyze (.nii, .nii.gz, .hdr/.img) through libnifti,
    /// with scl_slope/scl_inter applied and the voxel size in millimetres. 4D files holding a
    /// single volume are accepted. Hostile headers are refused before libnifti allocates
    /// (nifti_bridge.c: check_header, check_claimed_size).
    package convenience init(niftiPath path: String) throws {
        guard access(path, R_OK) == 0 else {
            throw AimosError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw AimosError(.io, "'\(path)' is not a regular file")
        }
        var message = [CChar](repeating: 0, count: 512)
        guard let image = nb_read(path, &message, message.count) else {
            throw AimosError(.format, String(cString: message))
        }
        try self.init(image: image, path: path, dicom: nil)
    }
}
