/// The reference backend's 2x2 max pooling with stride 2; odd sizes drop the last row/column (PyTorch's floor mode).
enum ReferenceMaxPool2D {
    static func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    channels: Int, height: Int, width: Int) {
        let outHeight = height / 2, outWidth = width / 2
        for c in 0..<channels {
            let src = input + c * height * width
            let dst = output + c * outHeight * outWidth
            for y in 0..<outHeight {
                let top = src + 2 * y * width, bottom = top + width
                for x in 0..<outWidth {
                    dst[y * outWidth + x] = max(max(top[2 * x], top[2 * x + 1]), max(bottom[2 * x], bottom[2 * x + 1]))
                }
            }
        }
    }
}
