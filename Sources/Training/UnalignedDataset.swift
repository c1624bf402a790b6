/// Unaligned loading of two folders, as the reference's `unaligned_dataset.py` with its
/// `get_transform`: both folders scanned recursively, the first `maxDatasetSize` images of
/// each in sorted order, an epoch of max(|A|, |B|) samples planned by `EpochPlan`, and each
/// image decoded, resized, cropped and flipped on a background thread a few batches ahead.
///
/// An image that cannot be decoded (or is too small for the crop) is reported once and the
/// next readable image of its folder takes its place, in every epoch alike.
import Foundation
import ImageIO
import Tensors

/// One batch for the model.
public struct TrainingBatch: Sendable {
  /// `[N, inputChannels, H, W]` in [-1, 1].
  public var realA: Tensor
  /// `[N, outputChannels, H, W]` in [-1, 1].
  public var realB: Tensor
  /// The files the samples came from.
  public var pathsA: [FilePath]
  public var pathsB: [FilePath]
}

/// The two folders of a run and how their images are prepared.
public final class UnalignedDataset: @unchecked Sendable {
  public let imagesA: [FilePath]
  public let imagesB: [FilePath]
  let options: TrainingOptions
  private let report: @Sendable (String) -> Void
  private let lock = NSLock()
  /// Files found unusable, so that each is reported once and then passed over at once.
  private var unusable: Set<FilePath> = []

  /// Scans both folders.
  /// - Parameter report: receives one line per problem (an unreadable file, a dangling link).
  /// - Throws: `TrainingError.missingFolder` or `.emptyFolder`.
  public init(options: TrainingOptions, report: @escaping @Sendable (String) -> Void)
    throws(TrainingError)
  {
    self.options = options
    self.report = report
    imagesA = try UnalignedDataset.scan(options.folderA, limit: options.maxDatasetSize, report)
    imagesB = try UnalignedDataset.scan(options.folderB, limit: options.maxDatasetSize, report)
  }

  /// A dataset over lists of files already found (for tests).
  init(
    options: TrainingOptions, images: ([FilePath], [FilePath]),
    report: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.options = options
    self.report = report
    imagesA = images.0
    imagesB = images.1
  }

  /// The images of `folder`, sorted, at most `limit` of them.
  static func scan(
    _ folder: String, limit: Int?, _ report: @Sendable (String) -> Void
  ) throws(TrainingError) -> [FilePath] {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder),
      isFolder.boolValue
    else { throw .missingFolder(path: folder) }
    let scan = scanImageFiles(in: FilePath(folder))
    for problem in scan.problems { report("skipped \(problem)") }
    let images = Array(scan.images.prefix(limit ?? Int.max))
    guard !images.isEmpty else { throw .emptyFolder(path: folder) }
    return images
  }

  /// The samples of one epoch in batches, `skipping` the first batches (a resumed epoch).
  /// Decoding starts at once in the background, at most `ahead` batches ahead.
  public func epoch(_ plan: EpochPlan, skipping: Int = 0, ahead: Int = 3) -> EpochLoader {
    let batches = Array(plan.batches.dropFirst(skipping))
    let prefetcher = Prefetcher(count: batches.count, capacity: ahead) { [self] index in
      try self.load(batches[index])
    }
    return EpochLoader(prefetcher: prefetcher, count: batches.count)
  }

  /// Decodes and prepares one batch.
  func load(_ batch: [SampleChoice]) throws(TrainingError) -> TrainingBatch {
    var samplesA = [Tensor]()
    var samplesB = [Tensor]()
    var pathsA = [FilePath]()
    var pathsB = [FilePath]()
    for choice in batch {
      let (pathA, tensorA) = try readable(
        imagesA, from: choice.indexA, folder: options.folderA, channels: options.inputChannels,
        augmentation: choice.augmentationA)
      let (pathB, tensorB) = try readable(
        imagesB, from: choice.indexB, folder: options.folderB, channels: options.outputChannels,
        augmentation: choice.augmentationB)
      samplesA.append(tensorA)
      samplesB.append(tensorB)
      pathsA.append(pathA)
      pathsB.append(pathB)
    }
    return TrainingBatch(
      realA: stack(samplesA), realB: stack(samplesB), pathsA: pathsA, pathsB: pathsB)
  }

  /// The prepared image at `index` of `images`, or of the next usable one after it.
  private func readable(
    _ images: [FilePath], from index: Int, folder: String, channels: Int,
    augmentation: Augmentation
  ) throws(TrainingError) -> (FilePath, Tensor) {
    for offset in 0..<images.count {
      let path = images[(index + offset) % images.count]
      if lock.withLock({ unusable.contains(path) }) { continue }
      do {
        let image = try Image(contentsOf: path)
        let prepared = try prepare(image, augmentation: augmentation)
        return (path, prepared.tensor(channels: channels))
      } catch {
        lock.withLock { _ = unusable.insert(path) }
        // An ImageIOError's description already starts with the path.
        let reason = (error as? ImageIOError)?.reason ?? "\(error)"
        report("skipped \(path): \(reason)")
      }
    }
    throw .noReadableImages(path: folder)
  }

  /// The reference's `get_transform` on one decoded image: resize, crop, flip.
  /// - Throws: `PreparationError` when the image is smaller than the crop.
  func prepare(_ image: Image, augmentation: Augmentation) throws -> Image {
    let load = options.loadSize
    let crop = options.cropSize
    var image = image

    // The reference resizes 8-bit PIL images, which clamp to [0, 255] after each pass.
    func resize(_ image: Image, width: Int, height: Int) -> Image {
      image.resized(width: width, height: height, filter: .bicubic, clampingEachPass: true)
    }

    // Resize.
    switch options.preprocess {
    case .resizeAndCrop:
      image = resize(image, width: load, height: load)
    case .scaleWidth, .scaleWidthAndCrop:
      if !(image.width == load && image.height >= crop) {
        var height = max(Int(Double(load) * Double(image.height) / Double(image.width)), crop)
        if options.preprocess == .scaleWidth { height = nearestMultipleOfFour(height) }
        image = resize(image, width: load, height: height)
      } else if options.preprocess == .scaleWidth && image.height % 4 != 0 {
        image = resize(image, width: load, height: nearestMultipleOfFour(image.height))
      }
    case .crop:
      break
    case .none:
      let width = nearestMultipleOfFour(image.width)
      let height = nearestMultipleOfFour(image.height)
      if width != image.width || height != image.height {
        image = resize(image, width: width, height: height)
      }
    }

    // Crop.
    if options.preprocess.crops {
      guard image.width >= crop && image.height >= crop else {
        throw PreparationError(
          reason: "\(image.width)×\(image.height) is smaller than --crop-size \(crop)")
      }
      let x = Augmentation.offset(fraction: augmentation.cropX, room: image.width - crop)
      let y = Augmentation.offset(fraction: augmentation.cropY, room: image.height - crop)
      image = image.cropped(x: x, y: y, width: crop, height: crop)
    }

    // Flip.
    if augmentation.flip { image = image.flippedHorizontally() }
    return image
  }
}

/// Why a decoded image cannot be trained on.
struct PreparationError: Error, CustomStringConvertible {
  var reason: String
  var description: String { reason }
}

/// `value` rounded to the nearest multiple of 4 (ties to even, as Python's `round`), at least 4.
func nearestMultipleOfFour(_ value: Int) -> Int {
  max(4, Int((Double(value) / 4).rounded(.toNearestOrEven)) * 4)
}

/// Tensors `[1, C, H, W]` of one shape stacked into `[N, C, H, W]`.
func stack(_ samples: [Tensor]) -> Tensor {
  precondition(!samples.isEmpty, "cannot stack no samples")
  if samples.count == 1 { return samples[0] }
  let shape = samples[0].shape
  precondition(
    samples.allSatisfy { $0.shape == shape },
    "samples of shapes \(samples.map(\.shape)) cannot be stacked")
  return Tensor(
    shape: [samples.count] + shape.dropFirst(), scalars: samples.flatMap(\.scalars))
}

/// The batches of one epoch, decoded in the background; hand them out with `next()`.
public final class EpochLoader: @unchecked Sendable {
  private let prefetcher: Prefetcher<TrainingBatch>
  /// The batches this loader hands out.
  public let count: Int

  init(prefetcher: Prefetcher<TrainingBatch>, count: Int) {
    self.prefetcher = prefetcher
    self.count = count
  }

  /// The next batch, or nil at the end of the epoch.
  public func next() throws -> TrainingBatch? { try prefetcher.next() }

  /// Stops decoding ahead.
  public func cancel() { prefetcher.cancel() }
}
