/// What can go wrong in a training run, each case naming the file or option and the reason.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
  /// An option is out of range or contradicts another; the message says which and what to do.
  case invalidOptions(String)
  /// A data folder does not exist or is not a folder.
  case missingFolder(path: String)
  /// A data folder holds no PNG or JPEG file (after `--max-dataset-size`).
  case emptyFolder(path: String)
  /// Every image of a folder failed to decode.
  case noReadableImages(path: String)
  /// A file of the run folder could not be read or written.
  case file(path: String, reason: String)
  /// `--continue` was asked for but the run folder holds no `latest` checkpoint.
  case nothingToContinue(path: String)
  /// The saved training state does not fit the options or the networks.
  case incompatibleState(path: String, reason: String)

  public var description: String {
    switch self {
    case .invalidOptions(let message):
      return message
    case .missingFolder(let path):
      return "\(path): no such folder"
    case .emptyFolder(let path):
      return "\(path): no PNG or JPEG images found (folders are searched recursively)"
    case .noReadableImages(let path):
      return "\(path): none of the images could be decoded"
    case .file(let path, let reason):
      return "\(path): \(reason)"
    case .nothingToContinue(let path):
      return "\(path): no 'latest' checkpoint to continue from (train without --continue first)"
    case .incompatibleState(let path, let reason):
      return "\(path): cannot continue: \(reason)"
    }
  }
}
