/// A folder of images to evaluate on or train the classifier with.
import Foundation
import ImageIO

/// The image files under one folder (recursively, sorted by path, as `scanImageFiles` finds
/// them), checked to exist and to hold at least one image. Files are decoded one at a time on
/// request, so a folder of any size costs no memory until it is read.
public struct ImageFolder: Sendable {
  /// The folder.
  public let url: URL
  /// The image files found, sorted.
  public let files: [FilePath]
  /// Entries the scanner could not use (dangling links, special files), for a warning.
  public let problems: [ScanProblem]

  /// Scans the folder at `url`; `role` names it in errors ("--a", "training folder B").
  public init(_ url: URL, role: String) throws(EvaluationError) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw EvaluationError(
        .missingFolder, path: url.path, reason: "no such folder (given as \(role))")
    }
    guard isDirectory.boolValue else {
      throw EvaluationError(
        .missingFolder, path: url.path,
        reason: "not a folder (\(role) needs a folder of PNG or JPEG images)")
    }
    let scan = scanImageFiles(in: url)
    guard !scan.images.isEmpty else {
      throw EvaluationError(
        .emptyFolder, path: url.path,
        reason: "holds no PNG or JPEG images (given as \(role))"
          + (scan.problems.isEmpty ? "" : "; \(scan.problems.count) entries could not be read"))
    }
    self.url = url
    files = scan.images
    problems = scan.problems
  }

  /// The number of images.
  public var count: Int { files.count }

  /// Decodes image `index`, upright (EXIF orientation applied).
  public func image(at index: Int) throws(EvaluationError) -> Image {
    let path = files[index]
    do {
      return try Image(contentsOf: path)
    } catch {
      throw EvaluationError(.unreadableImage, path: error.path.description, reason: error.reason)
    }
  }

  /// Decodes every image and passes it through `transform`, on up to `workers` threads at once
  /// (each decoding its own files); `progress` is called with the count done, in any order.
  /// A file that fails to decode is left out and listed in `unreadable`, so that one damaged
  /// photo does not stop a long run; the outputs keep the folder's order.
  public func map<Output: Sendable>(
    workers: Int = 2, _ transform: @Sendable (Image) -> Output,
    progress: @Sendable (Int) -> Void = { _ in }
  ) -> (outputs: [Output], unreadable: [UnreadableImage]) {
    precondition(workers >= 1, "map needs at least one worker, got \(workers)")
    let results = LockedResults<Output>(count: files.count)
    let folder = self
    DispatchQueue.concurrentPerform(iterations: min(workers, files.count)) { worker in
      for index in stride(from: worker, to: folder.files.count, by: workers) {
        let outcome: Result<Output, EvaluationError>
        do throws(EvaluationError) {
          outcome = .success(transform(try folder.image(at: index)))
        } catch {
          outcome = .failure(error)
        }
        progress(results.store(outcome, at: index))
      }
    }
    return results.collected()
  }

  /// The first `limit` files only (all when `limit` is `nil` or larger than the folder).
  public func prefix(_ limit: Int?) -> ImageFolder {
    guard let limit, limit < files.count else { return self }
    precondition(limit > 0, "prefix of \(limit) images: the limit must be positive")
    return ImageFolder(url: url, files: Array(files.prefix(limit)), problems: problems)
  }

  private init(url: URL, files: [FilePath], problems: [ScanProblem]) {
    self.url = url
    self.files = files
    self.problems = problems
  }
}

/// A photo that could not be decoded and was left out of a run, with the decoder's reason.
public struct UnreadableImage: Sendable, Codable, Equatable, CustomStringConvertible {
  public var path: String
  public var reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public init(_ error: EvaluationError) { self.init(path: error.path, reason: error.reason) }

  public var description: String { "\(path): \(reason)" }
}

/// The outcomes of `ImageFolder.map`, filled from several threads.
private final class LockedResults<Output>: @unchecked Sendable {
  private let lock = NSLock()
  private var outcomes: [Result<Output, EvaluationError>?]
  private var done = 0

  init(count: Int) { outcomes = Array(repeating: nil, count: count) }

  /// Stores one outcome and returns how many are done.
  func store(_ outcome: Result<Output, EvaluationError>, at index: Int) -> Int {
    lock.lock()
    defer { lock.unlock() }
    outcomes[index] = outcome
    done += 1
    return done
  }

  /// The outputs and the failures, each in the folder's order.
  func collected() -> (outputs: [Output], unreadable: [UnreadableImage]) {
    var outputs: [Output] = []
    var unreadable: [UnreadableImage] = []
    for case let outcome? in outcomes {
      switch outcome {
      case .success(let output): outputs.append(output)
      case .failure(let error): unreadable.append(UnreadableImage(error))
      }
    }
    return (outputs, unreadable)
  }
}
