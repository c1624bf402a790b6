/// The errors of evaluation and of the domain classifier, each naming the file or folder.
import Foundation

/// Why an evaluation or a classifier's training could not run, with the path concerned and a
/// sentence saying what was found and what the user can do.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// A folder of images does not exist or is not a folder.
    case missingFolder
    /// A folder holds no image files.
    case emptyFolder
    /// An image file could not be decoded.
    case unreadableImage
    /// The model directory could not be used (see the reason).
    case unusableModel
    /// A classifier directory lacks `config.json` or its weights, or they do not fit.
    case unusableClassifier
    /// A classifier's `config.json` has a `format_version` this build does not read.
    case unsupportedVersion
    /// The channels or sizes of the inputs do not fit the networks.
    case mismatch
    /// A report or a classifier could not be written.
    case unwritable
  }

  public let kind: Kind
  /// The file or folder concerned.
  public let path: String
  /// What was found and what the user can do.
  public let reason: String

  public init(_ kind: Kind, path: String, reason: String) {
    self.kind = kind
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }
}
