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
