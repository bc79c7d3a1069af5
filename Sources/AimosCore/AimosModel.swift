/// A loaded model file: the metadata and one U-Net per ensemble member, BatchNorm folded.
/// Immutable after loading, so any number of threads may segment with it at once.
public final class AimosModel {
    public let metadata: AimosMetadataView
    let members: [UNet]

    public struct AimosMetadataView {
        public let values: ModelMetadata
        public let parameterCount: Int
        public let fileBytes: Int
    }

    public var classes: [String] { metadata.values.classes }
    public var hasUncertainty: Bool { metadata.values.uncertainty }

    public convenience init(path: String) throws {
        let bytes = try FileBytes.read(path: path)
        try self.init(safetensors: SafeTensorsFile(bytes: bytes, origin: "'\(path)'"), origin: "'\(path)'")
    }

    public init(safetensors file: SafeTensorsFile, origin: String = "model file") throws {
        guard let json = file.metadata["aimos"] else {
            throw AimosError.format("\(origin) has no 'aimos' entry in its safetensors __metadata__")
        }
        let meta: ModelMetadata
        do { meta = try ModelMetadata(json: json) } catch let e as AimosError {
            throw AimosError(e.kind, "\(origin): \(e.message)")
        }
        let minimumSize = 1 << meta.architecture.levels
        guard meta.inputSize >= minimumSize else {
            throw AimosError(.unsupported, "\(origin): input_size \(meta.inputSize) is smaller than \(minimumSize), the least that \(meta.architecture.name) can pool \(meta.architecture.levels) times")
        }
        var used = Set<String>()
        var members: [UNet] = []
        for member in 0..<meta.ensembleMembers {
            let prefix = meta.ensembleMembers > 1 ? "member\(member)." : ""
            members.append(try UNet(architecture: meta.architecture, outputChannels: meta.outputChannels) { key, shape in
                let name = prefix + key
                guard let info = file.tensors[name] else {
                    throw AimosError.format("\(origin): missing tensor '\(name)' (\(meta.architecture.name), \(meta.outputChannels) output channels)")
                }
                guard info.shape == shape else {
                    throw AimosError.format("\(origin): tensor '\(name)' has shape \(info.shape), expected \(shape) for \(meta.architecture.name)")
                }
                let values = try file.floats(info)
                guard values.allSatisfy({ $0.isFinite }) else {
                    throw AimosError.format("\(origin): tensor '\(name)' contains NaN or infinite values")
                }
                used.insert(name)
                return values
            })
        }
        // A float tensor the architecture does not use means the file is for another architecture
        // (or another member count); integer tensors such as num_batches_tracked are ignored.
        for name in file.tensorNames where !used.contains(name) {
            let dtype = file.tensors[name]!.dtype
            if ["F32", "F16", "BF16", "F64"].contains(dtype) {
                throw AimosError.format("\(origin): unexpected tensor '\(name)' for \(meta.architecture.name) with \(meta.ensembleMembers) member(s)")
            }
        }
        self.members = members
        self.metadata = AimosMetadataView(
            values: meta,
            parameterCount: meta.ensembleMembers * meta.architecture.parameterCount(outputChannels: meta.outputChannels),
            fileBytes: file.data.count)
    }
}
