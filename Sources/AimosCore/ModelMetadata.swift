/// The `aimos` entry of a model file's `__metadata__`: a JSON string such as
/// {"architecture": "Unet768", "classes": ["background", "Bone", ...], "input_size": 256,
///  "uncertainty": false, "ensemble_members": 1, "slice_axis": 2, "orientation": "TLD", "crop": "none",
///  "voxel_size_mm": 0.25}.
/// Only architecture and classes are required; the rest default as shown. `orientation` is the
/// anatomical layout of the training slices (rows, columns, slice index; AnatomicalOrientation);
/// absent means the published layout. `crop` says whether training slices were cut from the
/// animal's extent ("body") or the whole field of view ("none", the published behaviour).
package struct ModelMetadata: Equatable {
    package var architecture: UNetArchitecture
    package var classes: [String]
    package var inputSize: Int = 256
    package var uncertainty: Bool = false
    package var ensembleMembers: Int = 1
    package var sliceAxis: Int = 2
    package var orientation: AnatomicalOrientation = .published
    /// Whether the model was trained on slices cropped to the body.
    package var cropsToBody = false
    /// The voxel size (mm) of the scans it was trained on, when recorded ("voxel_size_mm"):
    /// the default working grid a light-sheet stack is averaged down to.
    package var voxelSizeMM: Double?

    /// Labels are written as uint8.
    static let maxClasses = 255

    package init(architecture: UNetArchitecture, classes: [String], inputSize: Int = 256,
                uncertainty: Bool = false, ensembleMembers: Int = 1, sliceAxis: Int = 2) {
        self.architecture = architecture
        self.classes = classes
        self.inputSize = inputSize
        self.uncertainty = uncertainty
        self.ensembleMembers = ensembleMembers
        self.sliceAxis = sliceAxis
    }

    /// Network output channels: one per class, plus the uncertainty channel (the last).
    package var outputChannels: Int { classes.count + (uncertainty ? 1 : 0) }

    package init(json text: String) throws {
        let value: JSONValue
        do { value = try JSONValue.parse(Array(text.utf8)) } catch let e as AimosError {
            throw AimosError.format("metadata 'aimos' is not valid JSON: \(e.message)")
        }
        guard value.objectValue != nil else { throw AimosError.format("metadata 'aimos' is not a JSON object") }
        guard let name = value["architecture"]?.stringValue else {
            throw AimosError.format("metadata 'aimos' lacks the string 'architecture'")
        }
        guard let architecture = UNetArchitecture.named(name) else {
            throw AimosError(.unsupported, "architecture '\(name)' is not one of \(UNetArchitecture.all.map(\.name).joined(separator: ", "))")
        }
        guard let classValues = value["classes"]?.arrayValue else {
            throw AimosError.format("metadata 'aimos' lacks the list 'classes'")
        }
        let classes = try classValues.map { v -> String in
            guard let s = v.stringValue, !s.isEmpty, !s.utf8.contains(0) else {
                throw AimosError.format("metadata 'aimos': every class name must be a non-empty string")
            }
            return s
        }
        guard classes.count >= 2, classes.count <= ModelMetadata.maxClasses else {
            throw AimosError(.unsupported, "a model needs 2 to \(ModelMetadata.maxClasses) classes (background included); this one lists \(classes.count)")
        }
        self.init(architecture: architecture, classes: classes)
        if let v = value["input_size"] {
            guard let n = v.int64Value, n >= 1, n <= 1024 else {
                throw AimosError.format("metadata 'aimos': input_size must be an integer from 1 to 1024")
            }
            inputSize = Int(n)
        }
        if let v = value["uncertainty"] {
            guard let b = v.boolValue else { throw AimosError.format("metadata 'aimos': uncertainty must be true or false") }
            uncertainty = b
        }
        if let v = value["ensemble_members"] {
            guard let n = v.int64Value, n >= 1, n <= 64 else {
                throw AimosError.format("metadata 'aimos': ensemble_members must be an integer from 1 to 64")
            }
            ensembleMembers = Int(n)
        }
        if let v = value["slice_axis"] {
            guard let n = v.int64Value, (0...2).contains(n) else {
                throw AimosError.format("metadata 'aimos': slice_axis must be 0, 1 or 2")
            }
            sliceAxis = Int(n)
        }
        if let v = value["orientation"] {
            guard let text = v.stringValue, let code = AnatomicalOrientation(text) else {
                throw AimosError.format("metadata 'aimos': orientation must be a code such as \"TLD\" (one of H/T, L/R, D/V for rows, columns and slices)")
            }
            orientation = code
        }
        if let v = value["voxel_size_mm"] {
            guard case let .number(mm, _) = v, mm.isFinite, mm > 0, mm <= 100 else {
                throw AimosError.format("metadata 'aimos': voxel_size_mm must be a number of millimetres > 0")
            }
            voxelSizeMM = mm
        }
        if let v = value["crop"] {
            guard let text = v.stringValue, ["body", "none"].contains(text) else {
                throw AimosError.format("metadata 'aimos': crop must be \"body\" or \"none\"")
            }
            cropsToBody = text == "body"
        }
    }
}
