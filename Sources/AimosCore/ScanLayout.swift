/// Where the scan's layout comes from (the `--orientation` choices).
package enum OrientationChoice: Equatable {
    /// The published behaviour: the voxel axes already are the model's (slice axis from the
    /// options or the model, the published row/column mapping, no flips).
    case none
    /// Detected from the image (OrientationDetector).
    case auto
    /// From the volume's voxel-to-world matrix (AnatomicalOrientation.fromWorldMatrix).
    case header
    /// Given by the user.
    case code(AnatomicalOrientation)

    /// Parses "none", "auto", "header" or a code; throws naming the choices.
    package static func parse(_ text: String) throws -> OrientationChoice {
        switch text.lowercased() {
        case "none": return .none
        case "auto": return .auto
        case "header": return .header
        default:
            guard let code = AnatomicalOrientation(text) else {
                throw AimosError.invalid("orientation '\(text)' is not none, auto, header or a code of three letters (one of H/T, L/R, D/V, such as LHD)")
            }
            return .code(code)
        }
    }
}

/// Whether slices are cut from the animal's extent (the `--crop` choices).
package enum CropChoice: Equatable {
    /// What the model file declares (its `crop`; absent: none).
    case model
    case none
    case body

    package static func parse(_ text: String) throws -> CropChoice {
        switch text.lowercased() {
        case "model": return .model
        case "none": return .none
        case "body": return .body
        default: throw AimosError.invalid("crop '\(text)' is not body, none or model")
        }
    }
}

/// How one animal of a scan was laid out for the model: its crop, the scan layout used and,
/// when detected, the detection's confidence.
package struct AnimalLayout {
    /// Below this detection confidence the command warns and names --orientation.
    package static let lowConfidence = 0.3
    package let box: VoxelBox
    /// The scan's layout (nil with orientation none: the voxel axes were taken as the model's).
    package internal(set) var orientation: AnatomicalOrientation?
    /// 0...1 for a detected layout (OrientationDetector), nil otherwise.
    package internal(set) var confidence: Double?
    /// Whether the slice index direction could be told from the organs found (auto only).
    package internal(set) var sliceDirectionKnown = true
    package internal(set) var geometry: SliceGeometry
}
