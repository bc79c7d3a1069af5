/// Where three index axes run in a mouse, as a three-letter code: each letter names the direction
/// that its axis's index increases towards.
///
///     H head (cranial)   T tail (caudal)
///     L the animal's left   R the animal's right
///     D dorsal (back)   V ventral (belly)
///
/// For a scan the letters are the voxel axes i, j, k ("LHD": i runs to the animal's left, j to
/// the head, k to the back). For a model they are the rows, the columns and the slice index of
/// its training slices ("TLD": rows run head to tail, columns to the left, slices belly to back).
/// Each of the three lines (H/T, L/R, D/V) appears exactly once: 48 codes in all.
package struct AnatomicalOrientation: Equatable, Hashable, CustomStringConvertible {
    /// The anatomical line of each letter: 0 head-tail, 1 left-right, 2 dorsal-ventral.
    package static let letters: [Character: (line: Int, positive: Bool)] = [
        "H": (0, true), "T": (0, false), "L": (1, true), "R": (1, false), "D": (2, true), "V": (2, false),
    ]
    static let positiveLetter: [Character] = ["H", "L", "D"]
    static let negativeLetter: [Character] = ["T", "R", "V"]

    /// The layout of the published AIMOS models: their preparation (OSchoppe/AIMOS,
    /// filehandling.readNifti(reorient='uCT_Rosenhain')) swaps the Rosenhain volumes' y and z and
    /// flips both, so slice rows run head to tail, slices belly to back, and the columns keep the
    /// scans' x, which runs towards the animal's left (Rosenhain A: spleen and stomach at high x,
    /// the kidney labelled right at low x; the CT280 maps are stored mirrored, see
    /// Tools/aimostools/synthesis/orientation.py). Slices are then cut along the last axis:
    /// rows T, columns L, slices D.
    package static let published = AnatomicalOrientation(uncheckedLetters: ["T", "L", "D"])

    /// The letters, one per axis.
    package let code: [Character]

    init(uncheckedLetters: [Character]) { code = uncheckedLetters }

    /// Parses a code such as "LHD" (case-insensitive); nil when it is not one of the 48.
    package init?(_ text: String) {
        let letters = Array(text.uppercased())
        guard letters.count == 3 else { return nil }
        var seen = Set<Int>()
        for letter in letters {
            guard let entry = AnatomicalOrientation.letters[letter], seen.insert(entry.line).inserted else { return nil }
        }
        code = letters
    }

    /// Throws a message naming the code and the rules when it is not valid.
    package static func parse(_ text: String, what: String) throws -> AnatomicalOrientation {
        guard let orientation = AnatomicalOrientation(text) else {
            throw AimosError.invalid("\(what) '\(text)' is not an orientation code: three letters, one of H/T (head, tail), one of L/R (the animal's left, right), one of D/V (dorsal, ventral), such as LHD")
        }
        return orientation
    }

    package var description: String { String(code) }

    /// The axis whose letter lies on anatomical `line`, and whether it runs the positive way.
    package func axis(onLine line: Int) -> (axis: Int, positive: Bool) {
        for (axis, letter) in code.enumerated() {
            let entry = AnatomicalOrientation.letters[letter]!
            if entry.line == line { return (axis, entry.positive) }
        }
        preconditionFailure("a validated orientation holds every line")
    }

    /// Whether this layout is a mirror image of "HLD" (an odd permutation or an odd number of
    /// negative letters): a left-handed frame.
    package var isMirrored: Bool {
        let lines = code.map { AnatomicalOrientation.letters[$0]!.line }
        let negatives = code.filter { !AnatomicalOrientation.letters[$0]!.positive }.count
        let inversions = (0..<3).reduce(0) { n, i in n + (i + 1..<3).filter { lines[$0] < lines[i] }.count }
        return (inversions + negatives) % 2 == 1
    }

    /// All 48 codes.
    package static let all: [AnatomicalOrientation] = {
        let permutations = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        var codes: [AnatomicalOrientation] = []
        for lines in permutations {
            for signs in 0..<8 {
                let letters = (0..<3).map { k -> Character in
                    signs & (1 << k) == 0 ? positiveLetter[lines[k]] : negativeLetter[lines[k]]
                }
                codes.append(AnatomicalOrientation(uncheckedLetters: letters))
            }
        }
        return codes
    }()

    /// The scan layout that a voxel-to-world matrix (NIfTI qform or sform, RAS+) gives, read the
    /// way rodent atlases use RAS (Waxholm space, the Allen CCF in RAS): +x the animal's right,
    /// +y anterior = head, +z superior = dorsal. Each voxel axis takes the world axis its
    /// direction is closest to; throws when two voxel axes are closest to one world axis (an
    /// oblique matrix, more than 45 degrees off) or the matrix is degenerate.
    package static func fromWorldMatrix(_ matrix: [[Double]]) throws -> AnatomicalOrientation {
        let worldLetters: [(Character, Character)] = [("R", "L"), ("H", "T"), ("D", "V")]
        var letters: [Character] = []
        var used = Set<Int>()
        for axis in 0..<3 {
            let column = (0..<3).map { matrix[$0][axis] }
            let length = column.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard length.isFinite, length > 0 else {
                throw AimosError.invalid("the header's voxel-to-world matrix has no direction for voxel axis \(axis)")
            }
            let world = (0..<3).max { abs(column[$0]) < abs(column[$1]) }!
            guard used.insert(world).inserted else {
                throw AimosError.invalid("the header's voxel-to-world matrix is oblique: voxel axes do not map to distinct world axes; give --orientation CODE")
            }
            letters.append(column[world] > 0 ? worldLetters[world].0 : worldLetters[world].1)
        }
        return AnatomicalOrientation(uncheckedLetters: letters)
    }
}
