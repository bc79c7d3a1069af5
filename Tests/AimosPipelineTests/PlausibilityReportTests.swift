import XCTest
@testable import AimosPipeline

/// The plausibility report on hand-made label maps: a mouse-like map passes, and each kind of
/// implausibility (wrong order, scattered, out of range, missing) flags the organ it concerns.
final class PlausibilityReportTests: XCTestCase {
    let classes = ["background", "Brain", "Heart", "Lung", "Liver", "Kidney", "Bladder"]
    let dims = [40, 120, 30]          // x left-right, y head-tail (head at high y), z
    let spacing = [0.5, 0.5, 0.5]     // 0.125 mm3 per voxel: 8 voxels per mm3

    /// Fills a box (inclusive lower, exclusive upper) with a label.
    func fill(_ labels: inout [UInt8], _ label: Int, _ lower: [Int], _ upper: [Int]) {
        for z in lower[2]..<upper[2] {
            for y in lower[1]..<upper[1] {
                for x in lower[0]..<upper[0] { labels[x + dims[0] * (y + dims[1] * z)] = UInt8(label) }
            }
        }
    }

    /// A mouse-like map, head at high y; volumes inside the ranges (voxels / 8000 = mL).
    func mouse() -> [UInt8] {
        var labels = [UInt8](repeating: 0, count: dims[0] * dims[1] * dims[2])
        fill(&labels, 1, [10, 100, 5], [30, 120, 15])   // brain 4000 voxels = 0.5 mL
        fill(&labels, 2, [16, 80, 8], [24, 92, 20])     // heart 1152 = 0.144 mL
        fill(&labels, 3, [4, 78, 8], [14, 96, 20])      // lung wing 2160
        fill(&labels, 3, [26, 78, 8], [36, 96, 20])     // lung wing 2160: 0.54 mL in a pair
        fill(&labels, 4, [8, 55, 5], [32, 75, 25])      // liver 9600 = 1.2 mL
        fill(&labels, 5, [6, 35, 18], [14, 50, 26])     // kidney 960
        fill(&labels, 5, [26, 35, 18], [34, 50, 26])    // kidney 960: 0.24 mL in a pair
        fill(&labels, 6, [16, 5, 5], [24, 15, 15])      // bladder 800 = 0.1 mL
        return labels
    }

    func report(_ labels: [UInt8], headward: (axis: Int, positive: Bool)? = (1, true)) -> PlausibilityReport {
        labels.withUnsafeBufferPointer {
            PlausibilityReport(labels: $0.baseAddress!, dims: dims, spacing: spacing, classes: classes, animals: 1,
                               animalOf: nil, headward: [headward])
        }
    }

    func problems(_ r: PlausibilityReport, _ organ: String) -> [String] {
        r.findings.first { $0.organ == organ }!.problems
    }

    func testMouseLikeMapIsPlausible() {
        let r = report(mouse())
        XCTAssertEqual(r.findings.map(\.organ), Array(classes.dropFirst()))
        XCTAssertTrue(r.flagged.isEmpty, r.summary())
        let lung = r.findings.first { $0.organ == "Lung" }!
        XCTAssertEqual(lung.pieces, 2)
        XCTAssertEqual(lung.volumeML, 4320 * 0.125 / 1000, accuracy: 1e-12)
        XCTAssertTrue(r.summary().contains("every organ plausible"))
    }

    func testTailFirstLayoutReversesTheOrder() {
        // The same map read as if y grew towards the tail: every ordered pair is reversed.
        let r = report(mouse(), headward: (1, false))
        XCTAssertTrue(problems(r, "Brain").contains("lies tailward of Heart (expected headward)"), r.summary())
        XCTAssertTrue(problems(r, "Bladder").contains { $0.hasPrefix("lies headward of") })
    }

    func testSwappedOrgansAreFlaggedByOrder() {
        var labels = mouse()
        for i in labels.indices where labels[i] == 6 { labels[i] = 0 }
        fill(&labels, 6, [16, 100, 16], [24, 110, 26])  // a bladder in the head
        let r = report(labels)
        XCTAssertTrue(problems(r, "Bladder").contains("lies headward of Liver (expected tailward)"), r.summary())
        XCTAssertTrue(problems(r, "Heart").contains("lies tailward of Bladder (expected headward)"), r.summary())
        XCTAssertTrue(problems(r, "Brain").isEmpty, r.summary())
    }

    func testScatteredOversizedAndMissingOrgans() {
        var labels = mouse()
        for i in labels.indices where labels[i] == 1 { labels[i] = 0 }         // no brain
        fill(&labels, 4, [0, 20, 0], [40, 75, 30])                               // liver 66000 voxels = 8.25 mL
        fill(&labels, 2, [0, 98, 16], [8, 110, 28])                              // a second heart as large as the first
        let r = report(labels)
        XCTAssertEqual(problems(r, "Brain"), ["not found"])
        XCTAssertTrue(problems(r, "Heart").contains { $0.hasPrefix("scattered: 2 pieces, the largest holds 50 %") }, r.summary())
        XCTAssertTrue(problems(r, "Liver").contains { $0.hasPrefix("volume 8.250 mL outside") }, r.summary())
        XCTAssertTrue(r.summary().contains("Liver: volume 8.250 mL"))
    }

    func testUnknownLayoutAndDoubtfulUnitsAreReportedAsNotChecked() {
        let labels = mouse()
        let r = labels.withUnsafeBufferPointer {
            PlausibilityReport(labels: $0.baseAddress!, dims: dims, spacing: [0.005, 0.005, 0.005], classes: classes,
                               animals: 1, animalOf: nil, headward: [nil], checkVolumes: false)
        }
        XCTAssertTrue(r.flagged.isEmpty, r.summary())
        XCTAssertEqual(r.notChecked.count, 2)
        XCTAssertTrue(r.findings.allSatisfy { $0.headwardMM == nil })
        XCTAssertTrue(r.json().contains("\"not_checked\": [\"volumes: the voxel size is doubtful"))
    }

    func testAnimalsAreCheckedSeparately() {
        // Two animals side by side along x: the second has its bladder in its head.
        var labels = [UInt8](repeating: 0, count: dims[0] * dims[1] * dims[2])
        fill(&labels, 4, [0, 55, 5], [18, 75, 25])      // animal 1 liver 7200 voxels
        fill(&labels, 6, [5, 5, 5], [13, 15, 15])       // animal 1 bladder
        fill(&labels, 4, [22, 55, 5], [40, 75, 25])     // animal 2 liver
        fill(&labels, 6, [27, 100, 5], [35, 110, 15])   // animal 2 bladder, headward of its liver
        let r = labels.withUnsafeBufferPointer {
            PlausibilityReport(labels: $0.baseAddress!, dims: dims, spacing: spacing, classes: classes, animals: 2,
                               animalOf: { $0 % 40 < 20 ? 0 : 1 }, headward: [(1, true), (1, true)])
        }
        let bladders = r.findings.filter { $0.organ == "Bladder" }
        XCTAssertEqual(bladders.map(\.animal), [1, 2])
        XCTAssertFalse(bladders[0].problems.contains { $0.contains("Liver") })
        XCTAssertTrue(bladders[1].problems.contains("lies headward of Liver (expected tailward)"), r.summary())
        XCTAssertTrue(r.summary().contains("animal 2 Bladder:"))
    }
}
