/// The network side of a translation, kept behind a small protocol so that the pipeline can be
/// tested with simple translators and run any generator.
import Tensors

/// Something that turns one image tensor into another of the same height and width: a
/// CycleGAN generator in one direction, or in tests a known mapping such as colour inversion.
///
/// The pipeline calls `translate` from one thread only, one image at a time.
public protocol ImageTranslator {
  /// Channels of the tensors `translate` takes: 3 (RGB) or 1 (grey).
  var inputChannels: Int { get }
  /// Channels of the tensors `translate` returns: 3 (RGB) or 1 (grey).
  var outputChannels: Int { get }
  /// `translate` needs heights and widths that are multiples of this (4 for the ResNet
  /// generator's two stride-2 stages); the pipeline reflect-pads to it and crops back.
  var sizeMultiple: Int { get }
  /// The smallest height and width `translate` accepts; the pipeline pads smaller images up to
  /// it (8 for the ResNet generator, whose innermost reflection padding needs 2 rows).
  var minimumSize: Int { get }

  /// The memory `translate` needs at its peak, as a function of the (padded) input size.
  var memoryEstimate: MemoryEstimate { get }

  /// Translates `image`, shaped `[1, inputChannels, H, W]` with samples in [-1, 1], into
  /// `[1, outputChannels, H, W]` in [-1, 1].
  func translate(_ image: Tensor) -> Tensor
}

/// The memory a translator needs at its peak for one image: a fixed part (weights, scratch
/// buffers) and a part that grows with the number of pixels (activations alive together).
public struct MemoryEstimate: Sendable, Equatable {
  public var fixedBytes: Int
  public var bytesPerPixel: Int

  public init(fixedBytes: Int, bytesPerPixel: Int) {
    self.fixedBytes = fixedBytes
    self.bytesPerPixel = bytesPerPixel
  }

  /// The estimate for an input of `height` × `width` pixels.
  public func bytes(height: Int, width: Int) -> Int {
    fixedBytes + bytesPerPixel * height * width
  }
}
