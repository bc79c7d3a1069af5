import Foundation
import XCTest
@testable import AimosCore

/// Layout codes, the header reading, and the exact mapping of a scan in any of the 48 layouts
/// into the model's and back.
final class OrientationTests: XCTestCase {
    func testThereAre48CodesAndHalfAreMirrorImages() {
        let all = AnatomicalOrientation.all
        XCTAssertEqual(all.count, 48)
        XCTAssertEqual(Set(all.map(\.description)).count, 48)
        XCTAssertEqual(all.filter(\.isMirrored).count, 24)
        XCTAssertFalse(AnatomicalOrientation("HLD")!.isMirrored)
        XCTAssertTrue(AnatomicalOrientation("HRD")!.isMirrored)
        XCTAssertFalse(AnatomicalOrientation("LDH")!.isMirrored)      // a cyclic permutation
        XCTAssertEqual(AnatomicalOrientation.published.description, "TLD")
        XCTAssertEqual(AnatomicalOrientation("lhd")?.description, "LHD")
        for bad in ["", "LH", "LHDD", "LLD", "HTD", "XHD", "L H"] {
            XCTAssertNil(AnatomicalOrientation(bad), bad)
        }
        XCTAssertThrowsError(try AnatomicalOrientation.parse("LLD", what: "--orientation")) {
            XCTAssertTrue("\($0)".contains("'LLD'"), "\($0)")
        }
    }

    func testWorldMatrixReadsAsRightHeadBack() throws {
        XCTAssertEqual(try AnatomicalOrientation.fromWorldMatrix([[0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]]).description, "RHD")
        XCTAssertEqual(try AnatomicalOrientation.fromWorldMatrix([[-0.1, 0, 0], [0, 0, 0.2], [0, -0.1, 0]]).description, "LVH")
        // 30 degrees off an axis still reads as that axis.
        XCTAssertEqual(try AnatomicalOrientation.fromWorldMatrix([[0.87, -0.5, 0], [0.5, 0.87, 0], [0, 0, 1]]).description, "RHD")
        XCTAssertThrowsError(try AnatomicalOrientation.fromWorldMatrix([[1, 1, 0], [0, 0, 0], [0, 0, 1]]))
        XCTAssertThrowsError(try AnatomicalOrientation.fromWorldMatrix([[0, 0, 0], [0, 1, 0], [0, 0, 1]]))
    }

    func testModelMetadataDeclaresOrientationAndCrop() throws {
        let plain = try ModelMetadata(json: #"{"architecture": "Unet64", "classes": ["background", "a"]}"#)
        XCTAssertEqual(plain.orientation, .published)
        XCTAssertFalse(plain.cropsToBody)
        let declared = try ModelMetadata(json: #"{"architecture": "Unet64", "classes": ["background", "a"], "orientation": "HLD", "crop": "body"}"#)
        XCTAssertEqual(declared.orientation.description, "HLD")
        XCTAssertTrue(declared.cropsToBody)
        XCTAssertThrowsError(try ModelMetadata(json: #"{"architecture": "Unet64", "classes": ["background", "a"], "orientation": "HHD"}"#))
        XCTAssertThrowsError(try ModelMetadata(json: #"{"architecture": "Unet64", "classes": ["background", "a"], "crop": "yes"}"#))
    }

    /// A volume laid out as `source`, re-laid out as `target` (permuted and flipped), with the
    /// index map from target voxels to source voxels.
    static func relayout(_ values: [Float], dims: [Int], from source: AnatomicalOrientation,
                         to target: AnatomicalOrientation) -> (values: [Float], dims: [Int], sourceIndex: [Int]) {
        var order = [Int](), flips = [Bool]()
        for letter in target.code {
            let (line, positive) = AnatomicalOrientation.letters[letter]!
            let (axis, sourcePositive) = source.axis(onLine: line)
            order.append(axis)
            flips.append(positive != sourcePositive)
        }
        let out = order.map { dims[$0] }
        var result = [Float](repeating: 0, count: values.count), index = [Int](repeating: 0, count: values.count)
        for k in 0..<out[2] {
            for j in 0..<out[1] {
                for i in 0..<out[0] {
                    var p = [0, 0, 0]
                    for (axis, t) in [i, j, k].enumerated() {
                        p[order[axis]] = flips[axis] ? out[axis] - 1 - t : t
                    }
                    let s = p[0] + dims[0] * (p[1] + dims[1] * p[2])
                    let o = i + out[0] * (j + out[1] * k)
                    result[o] = values[s]
                    index[o] = s
                }
            }
        }
        return (result, out, index)
    }

    /// Segmenting a scan written in each of the 48 layouts, with its code (and with a header
    /// that says the same), gives exactly the labels and heatmap of the scan in its own layout.
    func testEveryLayoutMapsBackExactly() throws {
        let model = try AimosModel(path: GoldenFixtureTests.fixtureURL("unet64_c3_s32_f32_unc.safetensors").path)
        let dims = [9, 14, 5], spacing = [0.2, 0.3, 0.25]
        let canonical = AnatomicalOrientation("LHD")!
        let values = (0..<dims.reduce(1, *)).map { i -> Float in
            let x = i % 9, y = (i / 9) % 14, z = i / 126
            return Float((x * 7 + y * y * 3 + z * 11) % 23) + (x == 4 ? 40 : 0)
        }
        func run(_ v: [Float], _ d: [Int], _ s: [Double], _ choice: OrientationChoice, matrix: [[Double]]? = nil) throws -> SegmentationResult {
            try v.withUnsafeBytes { bytes in
                let volume = try VoxelVolume(data: bytes.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                             dims: d.map(Int64.init), spacing: s)
                var options = SegmentationOptions(threads: 2, orientation: choice, crop: .none)
                options.worldMatrix = matrix
                return try model.segment(volume, options: options)
            }
        }
        let reference = try run(values, dims, spacing, .code(canonical))
        let worldColumn: [Character: [Double]] = ["R": [1, 0, 0], "L": [-1, 0, 0], "H": [0, 1, 0], "T": [0, -1, 0],
                                                  "D": [0, 0, 1], "V": [0, 0, -1]]
        for code in AnatomicalOrientation.all {
            let moved = OrientationTests.relayout(values, dims: dims, from: canonical, to: code)
            let movedSpacing = code.code.map { spacing[canonical.axis(onLine: AnatomicalOrientation.letters[$0]!.line).axis] }
            let matrix = (0..<3).map { r in (0..<3).map { c in worldColumn[code.code[c]]![r] * movedSpacing[c] } }
            for (mode, result) in [("code", try run(moved.values, moved.dims, movedSpacing, .code(code))),
                                   ("header", try run(moved.values, moved.dims, movedSpacing, .header, matrix: matrix))] {
                XCTAssertEqual(result.layouts.first?.orientation, code, "\(mode) \(code)")
                var labelDifferences = 0, heatDifference: Float = 0
                for o in 0..<moved.values.count {
                    let s = moved.sourceIndex[o]
                    if result.labels[o] != reference.labels[s] { labelDifferences += 1 }
                    heatDifference = max(heatDifference, abs(result.uncertainty![o] - reference.uncertainty![s]))
                }
                XCTAssertEqual(labelDifferences, 0, "\(mode) \(code): labels differ from the canonical run")
                XCTAssertLessThanOrEqual(heatDifference, 1e-6, "\(mode) \(code): heatmap differs")
            }
        }
        // The model slices the canonical scan as its layout (TLD) says: rows run to the tail (y
        // reversed), columns to the left (x), slices to the back (z).
        let geometry = reference.layouts[0].geometry
        XCTAssertEqual([geometry.rowAxis, geometry.colAxis, geometry.axis], [1, 0, 2])
        XCTAssertEqual([geometry.rowFlipped, geometry.colFlipped, geometry.sliceFlipped], [true, false, false])
    }

    func testNoneKeepsThePublishedBehaviourAndSliceAxisNeedsIt() throws {
        let model = try AimosModel(path: GoldenFixtureTests.fixtureURL("unet64_c3_s32_f32.safetensors").path)
        let values = [Float](repeating: 1, count: 4 * 5 * 6)
        try values.withUnsafeBytes { bytes in
            let volume = try VoxelVolume(data: bytes.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                         dims: [4, 5, 6], spacing: [1, 1, 1])
            let result = try model.segment(volume, options: SegmentationOptions(sliceAxis: 1))
            XCTAssertNil(result.layouts[0].orientation)
            XCTAssertEqual(result.layouts[0].geometry.axis, 1)
            XCTAssertEqual(result.layouts[0].box, VoxelBox(dims: [4, 5, 6]))
            XCTAssertThrowsError(try model.segment(volume, options: SegmentationOptions(sliceAxis: 1, orientation: .auto))) {
                XCTAssertTrue("\($0)".contains("orientation none"), "\($0)")
            }
            XCTAssertThrowsError(try model.segment(volume, options: SegmentationOptions(orientation: .header))) {
                XCTAssertTrue("\($0)".contains("world matrix"), "\($0)")
            }
        }
    }

    /// The cross-section cue of `auto`: a body 30 mm wide (x) and 20 mm high (z) is sliced along
    /// its shorter side by a coronal (D/V-slicing) model, along its longer by a sagittal one; no
    /// preference where the sides are equal or the shorter one is cut by the field of view.
    func testCrossSectionFavoursSlicingAcrossTheFlatterSide() {
        let uncut = [false, false, false]
        let score = { (z: Double, cut: [Bool], line: Int) in
            OrientationDetector.crossSectionScores(axes: [0, 2], sliceLine: line, sides: [30, 80, z], cut: cut)
        }
        XCTAssertEqual(score(20, uncut, 2), [0, 1])
        XCTAssertEqual(score(20, uncut, 1), [1, 0])
        XCTAssertEqual(score(27, uncut, 2)[1], (30.0 / 27 - 1) / OrientationDetector.fullCrossSectionExcess, accuracy: 1e-12)
        XCTAssertEqual(score(30, uncut, 2), [0, 0])
        XCTAssertEqual(score(20, [false, false, true], 2), [0, 0])
        XCTAssertEqual(score(20, [true, false, false], 2), [0, 1])
    }
}
