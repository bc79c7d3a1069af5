import AimosCore

/// Where two annotations of one scan differ (organs matched by name): the target the
/// uncertainty channel learns. `labels` names, at each voxel where the annotators differ, the
/// organ in question (the first annotator's, or the second's where the first says
/// background); 0 where they agree. A predicted heatmap is scored against it as in the paper:
/// Dice of (heatmap >= 0.5) against the disagreement voxels.
package struct AnnotatorDisagreement {
    package let organs: [String]
    package let labels: [UInt8]
    package let differing: Int
    /// Differing voxels per organ (index k - 1 for organ k).
    package let perOrgan: [Int]

    package init(first: LabelMapComparison.Map, second: LabelMapComparison.Map) {
        let numbering = LabelMapComparison.commonNumbering([first, second])
        let a = numbering.labels[0], b = numbering.labels[1]
        var labels = [UInt8](repeating: 0, count: a.count)
        var perOrgan = [Int](repeating: 0, count: numbering.organs.count)
        var differing = 0
        for i in 0..<a.count where a[i] != b[i] {
            let organ = a[i] != 0 ? a[i] : b[i]
            labels[i] = organ
            perOrgan[Int(organ) - 1] += 1
            differing += 1
        }
        organs = numbering.organs
        self.labels = labels
        self.differing = differing
        self.perOrgan = perOrgan
    }

    /// The paper's heatmap Dice: (heatmap >= threshold) against the differing voxels, eps 1e-5.
    package func heatmapDice(_ heatmap: (Int) -> Double, threshold: Double = 0.5) -> Double {
        var tp = 0, fp = 0, fn = 0
        for i in 0..<labels.count {
            let predicted = heatmap(i) >= threshold, actual = labels[i] != 0
            if predicted && actual { tp += 1 } else if predicted { fp += 1 } else if actual { fn += 1 }
        }
        return OrganMetrics.dice(truePositives: tp, falsePositives: fp, falseNegatives: fn)
    }
}
