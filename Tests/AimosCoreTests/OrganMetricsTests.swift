import Foundation
import XCTest
@testable import AimosCore

/// OrganMetrics against aimostools.evaluation.metrics (numpy and scipy: the exact Euclidean
/// distance transform, binary erosion, center_of_mass) on the committed cases of
/// aimos-make-metric-fixtures: shifted cubes, spheres on an anisotropic grid, empty and
/// one-voxel organs, an organ against the grid's edge.
final class OrganMetricsTests: XCTestCase {
    func testMetricsMatchTheNumpyScipyComputation() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("metric_cases.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = root["cases"] as! [[String: Any]]
        XCTAssertEqual(cases.count, 4)
        var organsChecked = 0
        for c in cases {
            let name = c["name"] as! String
            let dims = (c["dims"] as! [NSNumber]).map(\.intValue)
            let spacing = (c["spacing"] as! [NSNumber]).map(\.doubleValue)
            let reference = [UInt8](Data(base64Encoded: c["reference"] as! String)!)
            let prediction = [UInt8](Data(base64Encoded: c["prediction"] as! String)!)
            XCTAssertEqual(reference.count, dims.reduce(1, *))
            for (organKey, value) in c["expected"] as! [String: [String: Any]] {
                let organ = UInt8(organKey)!
                let m = OrganMetrics.compare(dims: dims, spacing: spacing,
                                             prediction: { prediction[$0] == organ }, reference: { reference[$0] == organ })
                let got: [String: Double] = ["dice": m.dice, "hd50_mm": m.hd50MM, "hd95_mm": m.hd95MM, "com_mm": m.centerOfMassMM,
                                             "volume_reference_mm3": m.referenceMM3, "volume_prediction_mm3": m.predictionMM3,
                                             "volume_error_pct": m.volumeErrorPercent]
                for (key, expected) in value {
                    let actual = got[key]!
                    if let number = expected as? NSNumber {
                        XCTAssertEqual(actual, number.doubleValue, accuracy: 1e-9 * max(1, abs(number.doubleValue)), "\(name) organ \(organ) \(key)")
                    } else {
                        XCTAssertTrue(actual.isNaN, "\(name) organ \(organ) \(key): \(actual), expected undefined")
                    }
                }
                organsChecked += 1
            }
        }
        XCTAssertEqual(organsChecked, 7)
    }

    /// Distances are exact Euclidean, not chamfer: two points 3 and 4 voxels apart on a
    /// 1 x 2 mm grid are sqrt(9 + 64) mm apart.
    func testDistanceTransformIsExactOnAnAnisotropicGrid() {
        let dims = [8, 8, 1]
        var target = [Bool](repeating: false, count: 64)
        target[0] = true
        let d = EuclideanDistanceTransform.squaredDistances(target: target, dims: dims, spacing: [1, 2, 1])
        XCTAssertEqual(d[4 * 8 + 3], 9 + 64, accuracy: 1e-12)
        XCTAssertEqual(d[0], 0)
        let none = EuclideanDistanceTransform.squaredDistances(target: [Bool](repeating: false, count: 64), dims: dims, spacing: [1, 1, 1])
        XCTAssertTrue(none.allSatisfy { $0 == .infinity })
    }

    func testPercentileInterpolatesAsNumpy() {
        XCTAssertEqual(OrganMetrics.percentile([4, 1, 3, 2], 50), 2.5)
        XCTAssertEqual(OrganMetrics.percentile([1, 2, 3, 4, 5], 95), 4.8, accuracy: 1e-12)
        XCTAssertTrue(OrganMetrics.percentile([], 50).isNaN)
    }
}
