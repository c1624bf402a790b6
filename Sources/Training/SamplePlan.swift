/// The order in which an epoch visits the two folders, fixed in advance from one random stream
/// so that a resumed run can rebuild it exactly and skip what was done.
///
/// As the reference's unaligned dataset: an epoch has max(|A|, |B|) samples; sample `i` takes A
/// image `i mod |A|` and B image `i mod |B|` with `--serial-batches`, and otherwise the sample
/// order is shuffled and each A is paired with a B drawn at random. Crops and flips are drawn
/// here too, as fractions of the room each image turns out to have once decoded.
import Tensors

/// Where to crop and whether to flip one image.
public struct Augmentation: Codable, Sendable, Equatable {
  /// Fractions in [0, 1) of the horizontal and vertical room left by the crop.
  public var cropX: Double
  public var cropY: Double
  /// Whether the image is mirrored left to right.
  public var flip: Bool

  /// The crop's left or top offset for `room` spare pixels (`0...room`).
  public static func offset(fraction: Double, room: Int) -> Int {
    precondition(room >= 0, "no room for the crop: \(room)")
    return min(room, Int(fraction * Double(room + 1)))
  }
}

/// One training sample: an A image, a B image and how each is augmented.
public struct SampleChoice: Codable, Sendable, Equatable {
  public var indexA: Int
  public var indexB: Int
  public var augmentationA: Augmentation
  public var augmentationB: Augmentation
}

/// The samples of one epoch, grouped into batches.
public struct EpochPlan: Sendable, Equatable {
  /// Every batch in order; all have `batchSize` samples but the last, which may have fewer.
  public let batches: [[SampleChoice]]

  /// Draws the plan of one epoch from `random` (which advances).
  /// - Parameters:
  ///   - countA: images in folder A (at least 1).
  ///   - countB: images in folder B (at least 1).
  public init(
    countA: Int, countB: Int, batchSize: Int, serial: Bool, flip: Bool,
    random: inout RandomGenerator
  ) {
    precondition(countA > 0 && countB > 0, "empty folders: |A| = \(countA), |B| = \(countB)")
    precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
    let length = max(countA, countB)
    let order = serial ? Array(0..<length) : random.permutation(length)

    func augmentation() -> Augmentation {
      let x = random.nextUniformDouble()
      let y = random.nextUniformDouble()
      let mirrored = flip ? random.nextUniformDouble() < 0.5 : false
      return Augmentation(cropX: x, cropY: y, flip: mirrored)
    }

    var samples = [SampleChoice]()
    samples.reserveCapacity(length)
    for index in order {
      let indexB = serial ? index % countB : random.int(in: 0...(countB - 1))
      let augmentationA = augmentation()
      let augmentationB = augmentation()
      samples.append(
        SampleChoice(
          indexA: index % countA, indexB: indexB, augmentationA: augmentationA,
          augmentationB: augmentationB))
    }
    batches = stride(from: 0, to: length, by: batchSize).map {
      Array(samples[$0..<min(length, $0 + batchSize)])
    }
  }
}
