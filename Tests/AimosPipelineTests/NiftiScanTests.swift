import XCTest
@testable import AimosPipeline
import AimosCore
import CNiftiBridge

/// Reading NIfTI/Analyze through libnifti: every datatype, every container, scaling, 4D rules,
/// and clean errors for bad files (files written by nibabel: aimos-make-nifti-fixtures).
final class NiftiScanTests: XCTestCase {
    func assertPattern(_ scan: ScanImage, offset: Double = 0, slope: Double = 1, intercept: Double = 0,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(scan.dims, Support.dims, file: file, line: line)
        var worst = 0.0
        for z in 0..<5 { for y in 0..<6 { for x in 0..<7 {
            let expected = (Support.pattern(x, y, z) + offset) * slope + intercept
            worst = max(worst, abs(scan.intensity(at: x + 7 * (y + 6 * z)) - expected))
        } } }
        XCTAssertEqual(worst, 0, "voxel values of \(scan.path)", file: file, line: line)
    }

    func testEveryDatatypeReadsExactly() throws {
        for dtype in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "float32", "float64"] {
            let scan = try ScanImage(niftiPath: Support.fixture("pattern_\(dtype).nii.gz"))
            XCTAssertEqual(scan.datatypeName, dtype)
            // Unsigned files hold pattern - min(pattern) = pattern + 20.
            assertPattern(scan, offset: dtype.hasPrefix("u") ? 20 : 0)
            // The engine sees the same values.
            try scan.withVolume { volume in
                for i in [0, 17, 209] { XCTAssertEqual(Double(volume.value(at: i)), scan.intensity(at: i)) }
            }
        }
    }

    func testContainersAndVersions() throws {
        for name in ["pattern_int16.nii", "pattern_pair.hdr", "pattern_nifti2.nii.gz", "pattern_analyze.hdr", "pattern_4d_one.nii.gz"] {
            assertPattern(try ScanImage(niftiPath: Support.fixture(name)))
        }
    }

    func testSpacingFromTheHeader() throws {
        let scan = try ScanImage(niftiPath: Support.fixture("pattern_int16.nii.gz"))
        // pixdim = column norms of the affine written by the fixture script.
        let expected = [0.15, (0.12 * 0.12 + 0.02 * 0.02).squareRoot(), (0.01 * 0.01 + 0.2 * 0.2).squareRoot()]
        for axis in 0..<3 { XCTAssertEqual(scan.spacing[axis], expected[axis], accuracy: 1e-6) }
        let analyze = try ScanImage(niftiPath: Support.fixture("pattern_analyze.hdr"))
        XCTAssertEqual(analyze.spacing[0], 0.15, accuracy: 1e-6)
    }

    func testScalingIsApplied() throws {
        let scan = try ScanImage(niftiPath: Support.fixture("pattern_scaled.nii.gz"))
        assertPattern(scan, slope: 0.5, intercept: 100)
        try scan.withVolume { XCTAssertEqual($0.dtype, .float32) }
    }

    func testBadFilesGiveCleanErrors() {
        func expect(_ name: String, _ kind: AimosError.Kind, _ words: String) {
            XCTAssertThrowsError(try ScanImage(niftiPath: Support.fixture(name)), name) { error in
                let e = error as! AimosError
                XCTAssertEqual(e.kind, kind, "\(name): \(e.message)")
                XCTAssertTrue(e.message.contains(words), "\(name): \(e.message)")
            }
        }
        expect("pattern_4d_two.nii.gz", .unsupported, "holds 2 volumes")
        expect("truncated.nii", .format, "truncated.nii")
        expect("not_nifti.nii", .format, "not_nifti.nii")
        expect("missing.nii.gz", .io, "cannot open")
        // Headers whose dims overflow (libnifti wraps them): rejected before any voxel is read.
        expect("hostile_dims.nii", .format, "hostile_dims.nii")
        expect("hostile_int64.nii", .format, "hostile_int64.nii")
    }
}
