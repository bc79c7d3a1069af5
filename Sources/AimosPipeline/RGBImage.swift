import CJpegBridge
import AimosCore

/// A simple 8-bit RGB raster for the preview: filled rectangles, bitmap text, JPEG output.
package struct RGBImage {
    package let width: Int
    package let height: Int
    package var pixels: [UInt8]

    package init(width: Int, height: Int, fill: OrganPalette.RGB = OrganPalette.RGB(r: 0, g: 0, b: 0)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fillRect(x: 0, y: 0, width: width, height: height, color: fill)
    }

    package func pixel(x: Int, y: Int) -> OrganPalette.RGB {
        let i = (y * width + x) * 3
        return OrganPalette.RGB(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
    }

    mutating func set(x: Int, y: Int, _ c: OrganPalette.RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: OrganPalette.RGB) {
        // A rectangle partly or wholly outside the picture (a legend on a tiny scan's preview)
        // is clipped; an empty range must not be formed backwards.
        let x0 = max(0, x), x1 = min(width, x + w), y0 = max(0, y), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for yy in y0..<y1 {
            for xx in x0..<x1 { set(x: xx, y: yy, color) }
        }
    }

    /// Draws text with the bitmap font, each font pixel `scale` x `scale`; returns the width drawn.
    @discardableResult
    mutating func drawText(_ text: String, x: Int, y: Int, scale: Int, color: OrganPalette.RGB) -> Int {
        var cursor = x
        for character in text {
            for gy in 0..<BitmapFont.height {
                for gx in 0..<BitmapFont.width where BitmapFont.isSet(character, x: gx, y: gy) {
                    fillRect(x: cursor + gx * scale, y: y + gy * scale, width: scale, height: scale, color: color)
                }
            }
            cursor += (BitmapFont.width + 1) * scale
        }
        return cursor - x
    }

    static func textWidth(_ text: String, scale: Int) -> Int { text.count * (BitmapFont.width + 1) * scale }

    /// Copies `other` into this image at (x, y).
    mutating func blit(_ other: RGBImage, x: Int, y: Int) {
        for yy in 0..<other.height {
            for xx in 0..<other.width { set(x: x + xx, y: y + yy, other.pixel(x: xx, y: yy)) }
        }
    }

    package func writeJPEG(to path: String, quality: Int = 90) throws {
        var message = [CChar](repeating: 0, count: 512)
        let status = pixels.withUnsafeBufferPointer {
            jb_write_rgb(path, $0.baseAddress, Int32(width), Int32(height), Int32(quality), &message, message.count)
        }
        guard status == 0 else { throw AimosError(.io, String(cString: message)) }
    }

    /// Reads a JPEG back (for tests and checks).
    package static func readJPEG(_ path: String) throws -> RGBImage {
        var message = [CChar](repeating: 0, count: 512)
        var data: UnsafeMutablePointer<UInt8>?
        var w: Int32 = 0, h: Int32 = 0
        guard jb_read_rgb(path, &data, &w, &h, &message, message.count) == 0, let rgb = data else {
            throw AimosError(.format, String(cString: message))
        }
        defer { free(rgb) }
        var image = RGBImage(width: Int(w), height: Int(h))
        image.pixels = Array(UnsafeBufferPointer(start: rgb, count: Int(w) * Int(h) * 3))
        return image
    }
}

#if canImport(Glibc)
import Glibc
#endif
