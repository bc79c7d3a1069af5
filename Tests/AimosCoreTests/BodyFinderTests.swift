import XCTest
@testable import AimosCore

/// The body search on CT-like phantoms: air with noise, a plastic bed, a thin tube, the
/// reconstruction circle's padding, and one to three ellipsoid "mice" (soft tissue with a
/// bright spine) lying side by side.
final class BodyFinderTests: XCTestCase {
    struct Phantom {
        var dims: [Int]
        var values: [Float]
        /// Per animal, its ellipsoid's bounding box in voxels.
        var bodies: [VoxelBox]
    }

    /// 0.5 mm voxels: x across the bed, y along it, z up from it.
    /// `padding`: the constant outside the reconstruction circle, nil for none.
    static func phantom(animals: Int, padding: Float? = nil) -> Phantom {
        let dims = [animals * 60 + 20, 200, 70]
        var values = [Float](repeating: 0, count: dims.reduce(1, *))
        var seed: UInt32 = 12345
        let (semiX, semiY, semiZ) = (24.0, 80.0, 20.0)    // 12 x 40 x 10 mm
        let centres = (0..<animals).map { 40.0 + 60.0 * Double($0) }
        for z in 0..<dims[2] {
            for y in 0..<dims[1] {
                for x in 0..<dims[0] {
                    seed = seed &* 1_664_525 &+ 1_013_904_223
                    var v = -1000 + Float(seed >> 24) / 8                      // air, noisy
                    if z >= 5 && z < 9 { v = 200 }                            // the bed, 2 mm
                    let tube = Double((x - 8) * (x - 8) + (z - 20) * (z - 20))
                    if tube <= 4 { v = 100 }                                  // a tube, 2 mm wide
                    for cx in centres {
                        let e = pow((Double(x) - cx) / semiX, 2) + pow((Double(y) - 100) / semiY, 2) + pow((Double(z) - 29) / semiZ, 2)
                        if e <= 1 { v = abs(Double(x) - cx) < 3 && Double(z) > 40 && Double(z) < 45 ? 600 : 40 }
                    }
                    if let padding, pow(Double(x - dims[0] / 2), 2) + pow(Double(z - 35), 2) > pow(Double(dims[0]) / 2, 2) { v = padding }
                    values[x + dims[0] * (y + dims[1] * z)] = v
                }
            }
        }
        let bodies = centres.map { cx in
            VoxelBox(lower: [Int(cx - semiX), 20, 9], upper: [Int(cx + semiX) + 1, 181, 50])
        }
        return Phantom(dims: dims, values: values, bodies: bodies)
    }

    func find(_ phantom: Phantom, spacing: Double = 0.5) throws -> BodyFinder.Outcome {
        try phantom.values.withUnsafeBytes { bytes in
            let volume = try VoxelVolume(data: bytes.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                         dims: phantom.dims.map(Int64.init), spacing: [spacing, spacing, spacing])
            return try BodyFinder.find(volume)
        }
    }

    /// A bed apart from the body on a grid whose blocks are one voxel thick along z (137 voxels
    /// leave no block size with an even overhang but 1): the opening must still reach 2.5 mm
    /// along z, or a 2.9 mm bed survives as a second "animal".
    func testBedIsRemovedAlongAnAxisOfThinBlocks() throws {
        let dims = [121, 201, 137]
        let spacing = 0.292
        var values = [Float](repeating: -1000, count: dims.reduce(1, *))
        for z in 0..<dims[2] {
            for y in 0..<dims[1] {
                for x in 0..<dims[0] {
                    var v: Float = -1000 + Float((x * 7 + y * 13 + z * 3) % 17)
                    if z >= 20 && z < 30 { v = 150 }                                   // the bed, 2.9 mm
                    let e = pow(Double(x - 60) / 40, 2) + pow(Double(y - 100) / 85, 2) + pow(Double(z - 70) / 30, 2)
                    if e <= 1 { v = 40 }                                              // the body, 4 mm above the bed
                    values[x + dims[0] * (y + dims[1] * z)] = v
                }
            }
        }
        let outcome = try values.withUnsafeBytes { bytes in
            try BodyFinder.find(VoxelVolume(data: bytes.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                            dims: dims.map(Int64.init), spacing: [spacing, spacing, spacing]))
        }
        XCTAssertEqual(outcome.animals.count, 1, "\(outcome.animals.map(\.box))")
        XCTAssertGreaterThan(outcome.animals[0].box.lower[2], 29, "the bed is not in the box: \(outcome.animals[0].box)")
        XCTAssertLessThanOrEqual(outcome.animals[0].box.lower[2], 40)
    }

    func checkBoxes(_ outcome: BodyFinder.Outcome, _ phantom: Phantom, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(outcome.animals.count, phantom.bodies.count, "animals found", file: file, line: line)
        for (animal, body) in zip(outcome.animals, phantom.bodies) {
            for axis in 0..<3 {
                // Holds the body, and reaches no further than the margin and a block beyond it:
                // not the bed's width or length, nor the tube.
                XCTAssertLessThanOrEqual(animal.box.lower[axis], body.lower[axis] + 1, "axis \(axis) \(animal.box)", file: file, line: line)
                XCTAssertGreaterThanOrEqual(animal.box.upper[axis], body.upper[axis] - 1, "axis \(axis) \(animal.box)", file: file, line: line)
                XCTAssertGreaterThanOrEqual(animal.box.lower[axis], body.lower[axis] - 10, "axis \(axis) \(animal.box)", file: file, line: line)
                XCTAssertLessThanOrEqual(animal.box.upper[axis], body.upper[axis] + 10, "axis \(axis) \(animal.box)", file: file, line: line)
            }
            // Bilaterally symmetric across x (its left-right), not across z (back-belly).
            XCTAssertGreaterThan(animal.mirrorSymmetry[0], animal.mirrorSymmetry[2] + 0.1, file: file, line: line)
        }
        XCTAssertNil(outcome.suggestedVoxelSizeFactor, file: file, line: line)
        XCTAssertEqual(outcome.bodyLengthMM, 80, accuracy: 6, file: file, line: line)
    }

    func testOneAnimalOnABedWithATube() throws {
        let phantom = BodyFinderTests.phantom(animals: 1)
        checkBoxes(try find(phantom), phantom)
    }

    func testReconstructionCirclePaddingIsNotAir() throws {
        // The lowest value (-3024 HU), and 0 HU, brighter than air: held by the corners.
        for padding: Float in [-3024, 0] {
            let phantom = BodyFinderTests.phantom(animals: 1, padding: padding)
            checkBoxes(try find(phantom), phantom)
        }
    }

    /// The body's extent is a lower bound where it reaches the edge of the field of view.
    func testBodyCutByTheFieldOfViewIsMarked() throws {
        let whole = BodyFinderTests.phantom(animals: 1)
        XCTAssertEqual(try find(whole).animals[0].cutByFieldOfView, [false, false, false])
        // Keep y < 100 only: the body's tail half is outside the field of view.
        var cut = whole
        cut.dims[1] = 100
        cut.values = []
        let row = whole.dims[0]
        for z in 0..<whole.dims[2] {
            for y in 0..<100 {
                let start = (z * whole.dims[1] + y) * row
                cut.values += whole.values[start..<start + row]
            }
        }
        XCTAssertEqual(try find(cut).animals[0].cutByFieldOfView, [false, true, false])
    }

    func testTwoAndThreeAnimalsSideBySide() throws {
        for n in [2, 3] {
            let phantom = BodyFinderTests.phantom(animals: n)
            let outcome = try find(phantom)
            checkBoxes(outcome, phantom)
            // Each animal's body belongs to it alone.
            for (k, body) in phantom.bodies.enumerated() {
                let centre = (body.lower[0] + body.upper[0]) / 2 + phantom.dims[0] * (100 + phantom.dims[1] * 29)
                XCTAssertEqual(outcome.ownership?.owner(ofVoxel: centre), k)
            }
        }
    }

    func testImplausibleVoxelSizeIsCaughtWithItsFactor() throws {
        let phantom = BodyFinderTests.phantom(animals: 1)
        let micrometres = try find(phantom, spacing: 500)      // 0.5 mm written as 500 "mm"
        XCTAssertEqual(micrometres.suggestedVoxelSizeFactor, 0.001)
        XCTAssertEqual(micrometres.bodyLengthMM, 80_000, accuracy: 6_000)
        XCTAssertEqual(micrometres.animals.count, 1)
        let metres = try find(phantom, spacing: 0.0005)
        XCTAssertEqual(metres.suggestedVoxelSizeFactor, 1000)
    }

    func testCropSegmentsInsideTheBoxOnly() throws {
        let model = try AimosModel(path: GoldenFixtureTests.fixtureURL("unet64_c3_s32_f32.safetensors").path)
        let phantom = BodyFinderTests.phantom(animals: 2)
        try phantom.values.withUnsafeBytes { bytes in
            let volume = try VoxelVolume(data: bytes.baseAddress, dtypeRaw: VoxelVolume.DType.float32.rawValue,
                                         dims: phantom.dims.map(Int64.init), spacing: [0.5, 0.5, 0.5])
            let result = try model.segment(volume, options: SegmentationOptions(threads: 2, keepProbabilities: true, crop: .body))
            XCTAssertEqual(result.animalCount, 2)
            var outside = 0
            for i in 0..<result.voxelCount {
                let x = i % phantom.dims[0], y = (i / phantom.dims[0]) % phantom.dims[1], z = i / (phantom.dims[0] * phantom.dims[1])
                if !result.layouts.contains(where: { $0.box.contains(x: x, y: y, z: z) }) {
                    outside += 1
                    XCTAssertEqual(result.labels[i], 0)
                    XCTAssertEqual(result.probabilities[0][i], 1)
                    XCTAssertNil(result.animal(ofVoxel: i))
                }
            }
            XCTAssertGreaterThan(outside, result.voxelCount / 4, "the bed's far ends and the air lie outside the crops")
        }
    }
}
