#if canImport(Glibc)
import Glibc
#endif
import AimosCore
import AimosPipeline

/// The untrusted-input entry points that the fuzzers drive: each takes arbitrary bytes and must
/// either succeed or throw an AimosError; a crash, trap, hang or leak is a bug. The same
/// functions serve the libFuzzer build (FuzzEntry.swift) and the corpus replayer (FuzzReplay.swift).
enum FuzzTarget: String, CaseIterable {
    /// A model file: safetensors header, tensors, the AIMOS metadata, weight preparation.
    case model
    /// The AIMOS metadata JSON on its own (the parser and the metadata checks).
    case metadata
    /// A NIfTI file, as aimos reads a scan (through libnifti and aimos's checks).
    case nifti
    /// A DICOM file, as aimos reads a series (GDCM through the DICOM bridge, the geometry
    /// checks, the decoding of every transfer syntax GDCM has).
    case dicom
    /// A TIFF stack, as aimos streams a light-sheet scan (libtiff through the TIFF bridge, the
    /// stack checks, the block averaging onto a working grid).
    case tiff

    /// Runs one input. Errors aimos reports are the expected outcome for most inputs.
    func run(_ bytes: [UInt8]) {
        do {
            switch self {
            case .model:
                let file = try SafeTensorsFile(bytes: bytes, origin: "fuzz input")
                _ = try AimosModel(safetensors: file, origin: "fuzz input", kernels: .generic)
            case .metadata:
                _ = try? JSONValue.parse(bytes)
                _ = try ModelMetadata(json: String(decoding: bytes, as: UTF8.self))
            case .nifti:
                // libnifti reads files: the input goes to a private temporary file, gzipped or
                // not as its first two bytes say (the reader picks by the name, as for users).
                let gz = bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
                let path = FuzzScratch.write(bytes, suffix: gz ? ".nii.gz" : ".nii")
                defer { unlink(path) }
                let scan = try ScanImage(niftiPath: path)
                try scan.withVolume { volume in _ = volume.dims }
                _ = scan.worldMatrix()
                _ = scan.labelNames()
            case .dicom:
                let path = FuzzScratch.write(bytes, suffix: ".dcm")
                defer { unlink(path) }
                let scan = try ScanImage(dicomPath: path)
                try scan.withVolume { volume in _ = volume.dims }
                _ = scan.worldMatrix()
            case .tiff:
                let path = FuzzScratch.write(bytes, suffix: ".tif")
                defer { unlink(path) }
                // The file's own voxel size when it records one (hostile sizes too), else 0.1 mm;
                // a working grid of 0.4 mm exercises the partial blocks on small inputs.
                let recorded = try TiffStack(path: path).recordedVoxelSize
                let reading = StackReading(voxelSize: recorded == nil ? [0.1, 0.1, 0.1] : nil, workingVoxelSize: [0.4, 0.4, 0.4])
                let scan = try ScanImage(tiffPath: path, reading: reading)
                try scan.withVolume { volume in _ = volume.dims }
            }
        } catch is AimosError {
            // A clear error: what untrusted bytes should get.
        } catch {
            fatalError("\(self): an error that is not an AimosError escaped: \(error)")
        }
    }
}

/// A per-process scratch directory for inputs that must be files.
enum FuzzScratch {
    static let directory: String = {
        var template = Array("/tmp/aimos-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("cannot create a scratch directory in /tmp") }
        atexit { rmdir(FuzzScratch.directoryCString) }
        return String(cString: made)
    }()
    /// The directory as a C string, for the atexit handler (which cannot capture).
    static var directoryCString: [CChar] { Array(directory.utf8CString) }

    static func write(_ bytes: [UInt8], suffix: String) -> String {
        let path = directory + "/input" + suffix
        guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
        return path
    }
}
