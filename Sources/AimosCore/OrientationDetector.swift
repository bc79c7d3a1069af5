#if canImport(Glibc)
import Glibc
#endif

/// Finds a scan's anatomical layout (`--orientation auto`) among the 48, with a header that
/// may say nothing.
///
/// 1. The body axis (H/T line) is the animal box's longest side in mm: a mouse is two to four
///    times longer than wide or high.
/// 2. That leaves 16 layouts. Those that differ only in the direction of the model's slice
///    index give identical 2D slices, so 8 distinct slicings remain; the model segments five
///    slices (at 30 ... 70 % of the slice range) of each.
/// 3. Which of the two remaining axes the model slices along: the one whose slicings show the
///    most organ (SliceProcessor.organEvidence: cut the wrong way, a coronal model finds little
///    it knows), and across which the body is least mirror-symmetric (a mouse is bilaterally
///    symmetric across L/R, not across D/V; BodyFinder.Animal.mirrorSymmetry), and along which
///    the body's cross-section is shorter (crossSectionScores: a mouse lying on a bed is wider
///    than high). Each signal is taken relative to its larger value; symmetry and cross-section
///    count half each.
/// 4. Which way rows and columns run, judged by organ evidence (relative to the best of the
///    remaining slicings) plus where the model put the organs in each slicing's own frame (the
///    anatomy score): the model recognises organs partly by their look, so in a wrong slicing
///    they land on the wrong side.
///    a. Head or tail first: anatomy from brain, heart and lungs lying towards the head from
///       kidneys and bladder (organs far apart: the clearer signal).
///    b. Then left or right, between the two remaining mirror images: anatomy from stomach and
///       spleen lying to the left of the liver (close together, and half-learnt from position:
///       the weakest step).
/// 5. The slice index direction, which does not change any label, is read from the organs the
///    model then found in the whole scan (`resolveSliceDirection`): kidneys and spleen lie
///    dorsal of heart, liver and bladder.
/// The confidence is the smallest of the margins of steps 3, 4a and 4b, each scaled to 0...1.
/// Measured accuracy and its limits (the model's own knowledge of anatomy): README.
enum OrientationDetector {
    static let sampleFractions = [0.3, 0.4, 0.5, 0.6, 0.7]
    /// Relative organ-evidence margin (step 3) and anatomy margin (step 4, in fractions of the
    /// slice size) that count as certain.
    static let fullAxisMargin = 0.5
    static let fullHeadMargin = 0.3
    static let fullMirrorMargin = 0.2

    struct Detection {
        let orientation: AnatomicalOrientation
        let confidence: Double
    }

    /// What one candidate slicing gave: organ evidence, and per model in-plane direction (rows,
    /// columns) the anatomy score (positive: organs where the candidate says they should be).
    struct Score {
        var evidence = 0.0
        /// Per model in-plane direction (rows, columns).
        var anatomy = [0.0, 0.0]
    }

    /// Slices are cut from `box` (the crop the segmentation uses); the body axis comes from the
    /// animal found by BodyFinder (`body`: its box, symmetry and where the field of view cuts it).
    static func detect(model: AimosModel, volume: VoxelVolume, box: VoxelBox, body: BodyFinder.Animal,
                       spacing: [Double], workers: Int) throws -> Detection {
        let bodyBox = body.box, mirrorSymmetry = body.mirrorSymmetry
        let modelCode = model.metadata.values.orientation
        let sides = (0..<3).map { Double(bodyBox.size($0)) * spacing[$0] }
        let bodyAxis = (0..<3).max { sides[$0] < sides[$1] }!
        let candidates = distinctSlicings(bodyAxis: bodyAxis, model: modelCode)
        let groups = organGroups(classes: model.classes, model: modelCode)
        var scores = [Score](repeating: Score(), count: candidates.count)
        var failure: AimosError?
        let queue = SliceQueue(total: candidates.count, progress: nil)
        let lock = Lock()
        ParallelFor.run(workers: min(workers, candidates.count)) { _ in
            while let k = queue.take() {
                do {
                    let geometry = SliceGeometry(dims: volume.dims, scan: candidates[k], model: modelCode, box: box)
                    let processor = try SliceProcessor(model: model, geometry: geometry, keepProbabilities: false)
                    var tally = AnatomyTally(size: processor.size)
                    var evidence = 0.0
                    for fraction in sampleFractions {
                        let slice = min(geometry.sliceCount - 1, Int(Double(geometry.sliceCount) * fraction))
                        evidence += processor.organEvidence(volume: volume, slice: slice)
                        tally.add(processor.gridLabels, groups: groups)
                    }
                    let score = Score(evidence: evidence / Double(sampleFractions.count), anatomy: tally.roleScores(groups: groups))
                    if getenv("AIMOS_DEBUG_ORIENTATION") != nil { fputs("orientation \(candidates[k]): evidence \(score.evidence), anatomy rows \(score.anatomy[0]), columns \(score.anatomy[1])\n", stderr) }
                    lock.run { scores[k] = score }
                } catch let e as AimosError {
                    lock.run { failure = e }
                    queue.cancel()
                } catch {
                    queue.cancel()
                }
                queue.finished()
            }
        }
        if let failure = failure { throw failure }
        if getenv("AIMOS_DEBUG_ORIENTATION") != nil { fputs("mirror symmetry per axis \(mirrorSymmetry), body box \(bodyBox), cut \(body.cutByFieldOfView)\n", stderr) }
        // Step 3: the scan axis the model slices along, by organ evidence (relative to the best)
        // plus how much less mirror-symmetric the body is across it than across the other
        // (relative to the larger symmetry): the model slices along the axis the body is not
        // symmetric across (D/V for a coronal model; L/R is the axis of bilateral symmetry).
        let sliceLine = AnatomicalOrientation.letters[modelCode.code[2]]!.line
        let sliceAxisOf = { (k: Int) in candidates[k].axis(onLine: sliceLine).axis }
        let axes = Array(Set(candidates.indices.map(sliceAxisOf))).sorted()
        let bestEvidence = axes.map { axis in candidates.indices.filter { sliceAxisOf($0) == axis }.map { scores[$0].evidence }.max()! }
        let topEvidence = max(bestEvidence.max() ?? 0, 1e-12)
        let symmetries = axes.map { mirrorSymmetry[$0] }
        let symmetryScale = max(symmetries.map(abs).max() ?? 0, 1e-12)
        // Half the weight of the evidence: on synthetic scans at 0.45-0.5 mm the symmetry of ~1 mm
        // blocks misled more often than the evidence did. A sagittal model slices across it.
        let symmetryWeight = (sliceLine == 1 ? -1.0 : 1.0) * 0.5
        let shapeScores = crossSectionScores(axes: axes, sliceLine: sliceLine, sides: sides, cut: body.cutByFieldOfView)
        let axisScore = axes.indices.map { i in
            bestEvidence[i] / topEvidence - symmetryWeight * (symmetries[i] - (symmetries.max() ?? 0)) / symmetryScale
                + crossSectionWeight * shapeScores[i]
        }
        let axisRank = axes.indices.sorted { axisScore[$0] > axisScore[$1] }
        let chosenAxis = axes[axisRank[0]]
        let axisMargin = axes.count < 2 ? 1 : (axisScore[axisRank[0]] - axisScore[axisRank[1]]) / fullAxisMargin
        // Step 4: the directions of rows and columns, the head-tail one first.
        let finalists = candidates.indices.filter { sliceAxisOf($0) == chosenAxis }
        let headRole = AnatomicalOrientation.letters[modelCode.code[0]]!.line == 0 ? 0 : 1
        let otherRole = 1 - headRole
        let runsForwards = { (k: Int, role: Int) -> Bool in
            let geometry = SliceGeometry(dims: volume.dims, scan: candidates[k], model: modelCode, box: box)
            return role == 0 ? !geometry.rowFlipped : !geometry.colFlipped
        }
        let finalistEvidence = max(finalists.map { scores[$0].evidence }.max() ?? 0, 1e-12)
        let headScore = { (group: [Int]) in group.map { scores[$0].evidence / finalistEvidence + scores[$0].anatomy[headRole] }.max() ?? 0 }
        let forwards = finalists.filter { runsForwards($0, headRole) }, backwards = finalists.filter { !runsForwards($0, headRole) }
        let (forwardScore, backwardScore) = (headScore(forwards), headScore(backwards))
        let pair = forwardScore >= backwardScore ? forwards : backwards
        let headMargin = abs(forwardScore - backwardScore) / fullHeadMargin
        let pairEvidence = max(pair.map { scores[$0].evidence }.max() ?? 0, 1e-12)
        let mirrorScore = { (k: Int) in scores[k].evidence / pairEvidence + scores[k].anatomy[otherRole] }
        let ranked = pair.sorted { mirrorScore($0) > mirrorScore($1) }
        let mirrorMargin = ranked.count < 2 ? 1 : (mirrorScore(ranked[0]) - mirrorScore(ranked[1])) / fullMirrorMargin
        let confidence = min(1, axisMargin, headMargin, mirrorMargin)
        return Detection(orientation: candidates[ranked[0]], confidence: max(0, confidence))
    }

    /// Weight of the cross-section cue in step 3, and the width-to-height excess that counts as
    /// certain: synthetic bodies of all four anatomies were 7-80 % wider (L/R) than high (D/V).
    static let crossSectionWeight = 0.5
    static let fullCrossSectionExcess = 0.25

    /// Per candidate slice axis (step 3), from the body's transverse cross-section (`sides`: the
    /// body box's side per volume axis in mm; `cut`: BodyFinder.Animal.cutByFieldOfView): a mouse
    /// lying on its belly or back (prone or supine, as scanners hold it) is wider from left to
    /// right than from back to belly, so a model slicing along D/V prefers the shorter of the
    /// two transverse sides (one slicing along L/R the longer): 1 for the favoured axis where
    /// the sides differ by fullCrossSectionExcess or more, 0 for the other; both 0 where the
    /// shorter side is cut by the field of view (its length is then unknown) or the model
    /// slices along H/T.
    static func crossSectionScores(axes: [Int], sliceLine: Int, sides: [Double], cut: [Bool]) -> [Double] {
        guard axes.count == 2, sliceLine != 0 else { return axes.map { _ in 0 } }
        let transverse = axes.map { sides[$0] }
        let shorter = transverse[0] <= transverse[1] ? 0 : 1
        guard !cut[axes[shorter]], transverse[shorter] > 0 else { return [0, 0] }
        let excess = min(1, (transverse[1 - shorter] / transverse[shorter] - 1) / fullCrossSectionExcess)
        // Favour the shorter side for a D/V-slicing (coronal) model, the longer for an L/R one.
        let favoured = sliceLine == 2 ? shorter : 1 - shorter
        return axes.indices.map { $0 == favoured ? excess : 0 }
    }

    /// For the model's rows (0) and columns (1): the classes found on the positive and the
    /// negative side of the anatomical line they run along.
    static func organGroups(classes: [String], model: AnatomicalOrientation) -> [(positive: Set<Int>, negative: Set<Int>, forwards: Bool)] {
        let names = classes.map { $0.lowercased() }
        return (0..<2).map { role in
            let (line, positive) = AnatomicalOrientation.letters[model.code[role]]!
            return (Set(names.indices.filter { sides[line].positive.contains(names[$0]) }),
                    Set(names.indices.filter { sides[line].negative.contains(names[$0]) }), positive)
        }
    }

    /// Where on the model grid the organ groups were found, over the sampled slices.
    struct AnatomyTally {
        let size: Int
        var sums = [[Double]](repeating: [0, 0], count: 2), counts = [[Double]](repeating: [0, 0], count: 2)

        init(size: Int) { self.size = size }

        mutating func add(_ labels: UnsafeMutablePointer<UInt8>, groups: [(positive: Set<Int>, negative: Set<Int>, forwards: Bool)]) {
            var isPositive = [[Bool]](repeating: [Bool](repeating: false, count: 256), count: 2)
            var isNegative = isPositive
            for role in 0..<2 {
                for c in groups[role].positive { isPositive[role][c] = true }
                for c in groups[role].negative { isNegative[role][c] = true }
            }
            for r in 0..<size {
                for c in 0..<size {
                    let label = Int(labels[r * size + c])
                    guard label != 0 else { continue }
                    for role in 0..<2 {
                        let index = Double(role == 0 ? r : c)
                        if isPositive[role][label] { sums[role][0] += index; counts[role][0] += 1 }
                        if isNegative[role][label] { sums[role][1] += index; counts[role][1] += 1 }
                    }
                }
            }
        }

        /// Per direction (rows, columns), how far (in slice sizes) the positive-side organs lie
        /// beyond the negative-side ones in the direction the candidate says (0: not found).
        func roleScores(groups: [(positive: Set<Int>, negative: Set<Int>, forwards: Bool)]) -> [Double] {
            (0..<2).map { role in
                guard counts[role][0] > 0, counts[role][1] > 0 else { return 0 }
                let difference = (sums[role][0] / counts[role][0] - sums[role][1] / counts[role][1]) / Double(size)
                return groups[role].forwards ? difference : -difference
            }
        }
    }

    /// One scan layout per distinct slicing: the body axis on the H/T line, the two other axes
    /// on L/R and D/V either way round, every direction, but only one direction of the line
    /// the model slices along.
    static func distinctSlicings(bodyAxis: Int, model: AnatomicalOrientation) -> [AnatomicalOrientation] {
        let sliceLine = AnatomicalOrientation.letters[model.code[2]]!.line
        return AnatomicalOrientation.all.filter { code in
            let h = code.axis(onLine: 0), s = code.axis(onLine: sliceLine)
            return h.axis == bodyAxis && s.positive
        }
    }

    /// The organ pairs that tell the direction of each anatomical line: names of classes found
    /// on its positive side (H, L, D) and on its negative side (T, R, V).
    static let sides: [(positive: [String], negative: [String])] = [
        (["brain", "heart", "lung", "lungs"], ["bladder", "kidney", "kidneys"]),
        (["stomach", "spleen"], ["liver"]),
        // Spleen with the kidneys: in all four synthetic anatomies it lies dorsal of heart and
        // liver (60-83 % of the body's height from the belly, against 26-55 %), and it carries
        // the vote where a model misplaces the kidneys.
        (["kidney", "kidneys", "spleen"], ["heart", "liver", "bladder"]),
    ]

    /// Sets the direction of the model's slice line in `layout` from the organs segmented in
    /// its box; leaves it (and marks it unknown) when those organs are missing.
    static func resolveSliceDirection(_ layout: inout AnimalLayout, result: SegmentationResult, classes: [String],
                                      model: AnatomicalOrientation) {
        guard let scan = layout.orientation else { return }
        let line = AnatomicalOrientation.letters[model.code[2]]!.line
        let (axis, _) = scan.axis(onLine: line)
        let names = classes.map { $0.lowercased() }
        let positive = Set(names.indices.filter { sides[line].positive.contains(names[$0]) })
        let negative = Set(names.indices.filter { sides[line].negative.contains(names[$0]) })
        var sum = [0.0, 0.0], count = [0.0, 0.0]
        let box = layout.box, dims = result.dims
        for z in box.lower[2]..<box.upper[2] {
            for y in box.lower[1]..<box.upper[1] {
                let base = (z * dims[1] + y) * dims[0]
                for x in box.lower[0]..<box.upper[0] {
                    let label = Int(result.labels[base + x])
                    guard label > 0 else { continue }
                    let side = positive.contains(label) ? 0 : negative.contains(label) ? 1 : -1
                    guard side >= 0 else { continue }
                    sum[side] += Double([x, y, z][axis])
                    count[side] += 1
                }
            }
        }
        guard count[0] > 0, count[1] > 0 else {
            layout.sliceDirectionKnown = false
            return
        }
        // The positive-side organs at higher indices: the axis runs the positive way.
        let runsPositive = sum[0] / count[0] > sum[1] / count[1]
        var letters = scan.code
        letters[axis] = runsPositive ? AnatomicalOrientation.positiveLetter[line] : AnatomicalOrientation.negativeLetter[line]
        layout.orientation = AnatomicalOrientation(uncheckedLetters: letters)
    }
}
