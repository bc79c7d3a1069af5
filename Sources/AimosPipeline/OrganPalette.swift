/// One colour per class, used alike in the preview, the ITK-SNAP label description and the
/// Slicer colour table. The AIMOS organs get fixed, familiar colours; other class names get
/// distinct glasbey-like colours by index.
package enum OrganPalette {
    package struct RGB: Equatable {
        package let r, g, b: UInt8
        package init(r: UInt8, g: UInt8, b: UInt8) { self.r = r; self.g = g; self.b = b }
    }

    static let named: [String: RGB] = [
        "background": RGB(r: 0, g: 0, b: 0),
        "brain": RGB(r: 250, g: 190, b: 80),
        "heart": RGB(r: 220, g: 30, b: 40),
        "lung": RGB(r: 90, g: 170, b: 250), "lungs": RGB(r: 90, g: 170, b: 250),
        "liver": RGB(r: 150, g: 60, b: 30),
        "kidney": RGB(r: 240, g: 120, b: 200), "kidneys": RGB(r: 240, g: 120, b: 200),
        "spleen": RGB(r: 120, g: 40, b: 160),
        "bladder": RGB(r: 250, g: 240, b: 60),
        "stomach": RGB(r: 60, g: 200, b: 120),
        "intestine": RGB(r: 255, g: 150, b: 40),
        "bone": RGB(r: 235, g: 235, b: 225),
    ]

    static let fallback: [RGB] = [
        RGB(r: 0, g: 140, b: 70), RGB(r: 200, g: 0, b: 120), RGB(r: 0, g: 100, b: 200), RGB(r: 180, g: 180, b: 0),
        RGB(r: 0, g: 200, b: 200), RGB(r: 255, g: 90, b: 0), RGB(r: 130, g: 130, b: 255), RGB(r: 90, g: 60, b: 0),
        RGB(r: 255, g: 170, b: 170), RGB(r: 0, g: 80, b: 80), RGB(r: 170, g: 255, b: 120), RGB(r: 100, g: 0, b: 60),
    ]

    package static func color(of name: String, index: Int) -> RGB {
        named[name.lowercased()] ?? fallback[index % fallback.count]
    }

    package static func colors(for classes: [String]) -> [RGB] {
        classes.enumerated().map { color(of: $0.element, index: $0.offset) }
    }
}
