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
