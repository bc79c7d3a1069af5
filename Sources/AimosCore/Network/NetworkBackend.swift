/// The backend seam. A model's U-Nets are prepared once, at load time, for one backend (its
/// weight layout, transformed weights, the scratch sizes it needs); segmenting then runs
/// prepare (resize, z-score) -> network -> finish (median, argmax, resampling) with the network
/// stage behind this protocol, so another backend plugs in without touching the pipeline.
/// Two backends today: aimos's own CPU kernels (KernelNetwork) and the reference, im2col +
/// OpenBLAS (ReferenceNetwork), which tests compare the kernels against.
protocol PreparedNetwork: AnyObject {
    var kernelPath: CPUKernelPath { get }
    /// Bytes the prepared weights take.
    var weightBytes: Int { get }
    /// Scratch for one caller of forward; `threads` split each slice's work (1: no splitting).
    func makeWorkspace(threads: Int) throws -> NetworkWorkspace
    /// Outputs [batch][channels][S][S] of `batch` z-scored slices [batch][S][S]: the logits,
    /// or their logistic sigmoid when `sigmoid` is set. Allocates nothing.
    func forward(input: UnsafePointer<Float>, batch: Int, output: UnsafeMutablePointer<Float>,
                 sigmoid: Bool, workspace: NetworkWorkspace)
}

/// A backend's per-caller scratch memory.
protocol NetworkWorkspace: AnyObject {
    var bytes: Int { get }
}

enum NetworkBackend {
    /// Reads one member's weights from `tensor` and prepares them for `path` at the model's
    /// input size.
    static func prepare(architecture: UNetArchitecture, outputChannels: Int, inputSize: Int, path: CPUKernelPath,
                        tensor: UNet.TensorSource) throws -> PreparedNetwork {
        if path == .reference {
            return ReferenceNetwork(net: try UNet(architecture: architecture, outputChannels: outputChannels, tensor: tensor),
                                    inputSize: inputSize)
        }
        try path.requireSupported()
        return try KernelNetwork(architecture: architecture, outputChannels: outputChannels, inputSize: inputSize,
                                 path: path, kernels: path.table!, tensor: tensor)
    }
}
