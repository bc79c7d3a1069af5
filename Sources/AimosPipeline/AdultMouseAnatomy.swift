/// What an adult laboratory mouse (about 18 to 40 g) looks like, organ by organ, for checking a
/// segmentation that has no reference labels (PlausibilityReport).
///
/// Volume ranges in mL. Sources: the organ volumes of the five real annotations in the
/// project's development data, measured with this project's tools (Digimouse atlas, a 28 g
/// male nude mouse, Dogdas et al., Phys. Med. Biol. 52:577, 2007; the Rosenhain et al. micro-CT
/// annotations, Sci. Data 5:180294, 2018): brain 0.50, heart 0.23-0.27, lungs 0.47-0.69, liver
/// 1.05-2.40, both kidneys 0.27-0.59, spleen 0.06-0.17, bladder 0.03-0.23, stomach 0.27-0.83,
/// bone (thresholded skeleton) 0.78-1.42 mL. The ranges widen these for body weight (the
/// organs scale with it) and for what varies between animals and studies: a filled or empty
/// bladder and stomach, an enlarged spleen or liver in disease models, lungs at another
/// inflation. Outside a range is not proof of an error, but worth a look.
package enum AdultMouseAnatomy {
    /// How many pieces an organ is normally found in: one, or a pair (kidneys; lungs seen as
    /// two wings). `nil`: many by nature (bone, gut loops), not checked.
    package enum Pieces { case one, pair }

    package struct Organ {
        package let name: String
        package let volumeML: ClosedRange<Double>
        package let pieces: Pieces?
    }

    package static let organs: [Organ] = [
        Organ(name: "Brain", volumeML: 0.30...0.70, pieces: .one),
        Organ(name: "Heart", volumeML: 0.08...0.45, pieces: .one),
        Organ(name: "Lung", volumeML: 0.20...1.50, pieces: .pair),
        Organ(name: "Liver", volumeML: 0.60...3.50, pieces: .one),
        Organ(name: "Kidney", volumeML: 0.15...0.90, pieces: .pair),
        Organ(name: "Spleen", volumeML: 0.03...0.50, pieces: .one),
        Organ(name: "Bladder", volumeML: 0.005...1.00, pieces: .one),
        Organ(name: "Stomach", volumeML: 0.10...1.50, pieces: .one),
        Organ(name: "Intestine", volumeML: 0.20...5.00, pieces: nil),
        Organ(name: "Bone", volumeML: 0.40...3.00, pieces: nil),
    ]

    /// The largest piece (or the two largest, for a pair) holds at least this share of an
    /// organ's voxels; below it the organ is scattered.
    package static let mainShare = 0.75

    /// Pairs (cranial organ, caudal organ) whose centres always lie in this order along the
    /// head-to-tail axis, whatever the posture.
    package static let headToTailOrder: [(String, String)] = [
        ("Brain", "Heart"), ("Brain", "Lung"), ("Heart", "Liver"), ("Lung", "Liver"), ("Heart", "Kidney"),
        ("Lung", "Kidney"), ("Heart", "Stomach"), ("Liver", "Bladder"), ("Kidney", "Bladder"),
        ("Stomach", "Bladder"), ("Heart", "Bladder"), ("Lung", "Bladder"),
    ]

    package static func organ(named name: String) -> Organ? {
        organs.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}
