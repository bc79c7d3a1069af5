/// A loaded model file: the metadata and one U-Net per ensemble member, BatchNorm folded and
/// prepared for one kernel path (the CPU's best unless AIMOS_CPU_KERNELS or `kernels` says
/// otherwise). Immutable after loading, so any number of threads may segment with it at once.
package final class AimosModel {
    package let metadata: AimosMetadataView
    /// One prepared network per ensemble member.
    let networks: [PreparedNetwork]
    /// The kernels this model runs on.
    package let kernelPath: CPUKernelPath
    /// Bytes of the prepared weights (Winograd-transformed layers take four times their size).
    package var preparedWeightBytes: Int { networks.reduce(0) { $0 + $1.weightBytes } }

    package struct AimosMetadataView {
        package let values: ModelMetadata
        package let parameterCount: Int
        package let fileBytes: Int
    }

    package var classes: [String] { metadata.values.classes }
    package var hasUncertainty: Bool { metadata.values.uncertainty }

    package convenience init(path: String, kernels: CPUKernelPath? = nil) throws {
        let bytes = try FileBytes.read(path: path)
        try self.init(safetensors: SafeTensorsFile(bytes: bytes, origin: "'\(path)'"), origin: "'\(path)'", kernels: kernels)
    }

    /// `kernels`: nil for AIMOS_CPU_KERNELS, or the CPU's best path when it is not set.
    package init(safetensors file: SafeTensorsFile, origin: String = "model file", kernels: CPUKernelPath? = nil) throws {
        let path = try kernels ?? CPUKernelPath.fromEnvironment()
        try path.requireSupported()
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
        var networks: [PreparedNetwork] = []
        for member in 0..<meta.ensembleMembers {
            let prefix = meta.ensembleMembers > 1 ? "member\(member)." : ""
            networks.append(try NetworkBackend.prepare(architecture: meta.architecture, outputChannels: meta.outputChannels,
                                                       inputSize: meta.inputSize, path: path) { key, shape in
                let name = prefix + key
                guard let info = file.tensors[name] else {
                    throw AimosError.format("\(origin): missing tensor '\(name)' (\(meta.architecture.name), \(meta.outputChannels) output channels)")
                }
                guard info.shape == shape else {
                    throw AimosError.format("\(origin): tensor '\(name)' has shape \(info.shape), expected \(shape) for \(meta.architecture.name)")
                }
                let values: [Float]
                do { values = try file.floats(info) } catch let e as AimosError { throw AimosError(e.kind, "\(origin): \(e.message)") }
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
        self.networks = networks
        kernelPath = path
        self.metadata = AimosMetadataView(
            values: meta,
            parameterCount: meta.ensembleMembers * meta.architecture.parameterCount(outputChannels: meta.outputChannels),
            fileBytes: file.data.count)
    }

    /// A model of `architecture` with random weights, made in memory (no file): what
    /// `aimos bench` times. Weights He-uniform, BatchNorm at identity statistics.
    package init(randomWeights architecture: UNetArchitecture, classes: Int, inputSize: Int,
                kernels: CPUKernelPath? = nil, seed: UInt64 = 1) throws {
        let path = try kernels ?? CPUKernelPath.fromEnvironment()
        try path.requireSupported()
        var meta = ModelMetadata(architecture: architecture, classes: (0..<classes).map { "class\($0)" }, inputSize: inputSize)
        meta.ensembleMembers = 1
        var state = seed
        func uniform() -> Float {   // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Float(Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)) * 2 - 1
        }
        networks = [try NetworkBackend.prepare(architecture: architecture, outputChannels: classes, inputSize: inputSize,
                                               path: path) { key, shape in
            let count = shape.reduce(1, *)
            if key.hasSuffix("running_var") || key.hasSuffix("bn.weight") { return [Float](repeating: 1, count: count) }
            if key.hasSuffix("running_mean") || key.hasSuffix("bn.bias") { return [Float](repeating: 0, count: count) }
            let bound = key.hasSuffix("weight") ? Float((6.0 / Double(shape.dropFirst().reduce(1, *))).squareRoot()) : 0.1
            return (0..<count).map { _ in uniform() * bound }
        }]
        kernelPath = path
        metadata = AimosMetadataView(values: meta, parameterCount: architecture.parameterCount(outputChannels: classes),
                                     fileBytes: 0)
    }
}
