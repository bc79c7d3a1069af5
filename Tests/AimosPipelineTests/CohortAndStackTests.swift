import XCTest
@testable import AimosPipeline
import AimosCore
import CTiffBridge

/// The pieces under cohort mode and light-sheet streaming: SHA-256, natural order, the naming
/// pattern, the working grid's blocks.
final class CohortAndStackTests: XCTestCase {
    func hex(_ bytes: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.hexDigest()
    }

    func testSHA256MatchesTheStandardVectors() {
        XCTAssertEqual(hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // One million 'a', fed in uneven pieces: the block buffering across updates.
        var hash = SHA256()
        var fed = 0
        for size in [1, 63, 64, 65, 1000, 4095] where fed < 1_000_000 {
            let n = min(size, 1_000_000 - fed)
            hash.update([UInt8](repeating: 0x61, count: n))
            fed += n
        }
        hash.update([UInt8](repeating: 0x61, count: 1_000_000 - fed))
        XCTAssertEqual(hash.hexDigest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testNaturalOrderComparesDigitRunsByValue() {
        XCTAssertEqual(FolderListing.naturallyOrdered(["p_10.tif", "p_9.tif", "p_1.tif", "p_100.tif", "p_02.tif"]),
                       ["p_1.tif", "p_02.tif", "p_9.tif", "p_10.tif", "p_100.tif"])
        XCTAssertEqual(FolderListing.naturallyOrdered(["b2", "a10", "a2"]), ["a2", "a10", "b2"])
    }

    func testNamingPatternFieldsAndRefusals() throws {
        let scan = CohortScan(path: "/data/m1/scan_d7.nii.gz", mouse: "m1", timepoint: "d7", index: 3)
        XCTAssertEqual(scan.stem, "scan_d7")
        XCTAssertEqual(try scan.name(pattern: "{mouse}_{timepoint}_{index}"), "m1_d7_3")
        XCTAssertEqual(CohortScan(path: "/data/series/", index: 1).stem, "series")
        XCTAssertThrowsError(try scan.name(pattern: "{annotator}"))     // the scan has none
        XCTAssertThrowsError(try scan.name(pattern: "{weight}"))        // no such field
        XCTAssertThrowsError(try scan.name(pattern: "{mouse"))          // not closed
        XCTAssertThrowsError(try scan.name(pattern: "../{stem}"))       // not a file name
        let twins = [CohortScan(path: "a/x.nii", index: 1), CohortScan(path: "b/x.nii.gz", index: 2)]
        XCTAssertThrowsError(try CohortInputs.names(twins, pattern: "{stem}"))
        XCTAssertEqual(try CohortInputs.names(twins, pattern: "{stem}_{index}"), ["x_1", "x_2"])
    }

    func testWorkingGridBlocksNeverFinerThanTheStack() {
        let grid = WorkingGrid(nativeDims: [1000, 10, 7], nativeSpacing: [0.006, 0.5, 0.25], target: [0.25, 0.25, 0.25])
        XCTAssertEqual(grid.factors, [42, 1, 1])              // 0.25 / 0.006 = 41.7; 0.5 mm is kept, not split
        XCTAssertEqual(grid.dims, [24, 10, 7])                // 1000 = 23 * 42 + 34: a partial last block
        XCTAssertEqual(grid.blockLength(23, axis: 0), 34)
        XCTAssertEqual(grid.spacing[0], 0.252, accuracy: 1e-12)
        XCTAssertEqual(grid.affine[3], 41.0 / 2 * 0.006, accuracy: 1e-12)   // the first block's centre
        XCTAssertEqual(WorkingGrid(nativeDims: [5, 5, 5], nativeSpacing: [1, 1, 1], target: [100, 100, 100]).factors, [5, 5, 5])
    }

    func testTiffVoxelSizeFromOMEAndImageJ() {
        var page = tb_page_info()
        let ome = #"<OME><Image><Pixels SizeX="4" PhysicalSizeX="6.0" PhysicalSizeY="6.0" PhysicalSizeYUnit="µm" PhysicalSizeZ="0.01" PhysicalSizeZUnit="mm"/></Image></OME>"#
        XCTAssertEqual(TiffVoxelSize.parse(description: ome, page: page)!, [0.006, 0.006, 0.01])
        XCTAssertNil(TiffVoxelSize.parse(description: #"<OME><Pixels PhysicalSizeX="6.0"/></OME>"#, page: page))
        page.x_resolution = 1 / 6.0
        page.y_resolution = 1 / 6.0
        let imagej = "ImageJ=1.54f\nimages=10\nunit=micron\nspacing=8\n"
        XCTAssertEqual(TiffVoxelSize.parse(description: imagej, page: page)!, [0.006, 0.006, 0.008])
        XCTAssertNil(TiffVoxelSize.parse(description: "a camera's note", page: page))
    }
}
