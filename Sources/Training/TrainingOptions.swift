/// Everything a CycleGAN training run is configured by, with the defaults of the PyTorch
/// reference (pytorch-CycleGAN-and-pix2pix, `base_options.py`, `train_options.py` and
/// `cycle_gan_model.py`). The resolved options are saved as `options.json` at the start of a run
/// and read back by `--continue`.
///
/// Reference names, for users who know them: `batchSize` is `batch_size`, `loadSize`
/// `load_size`, `cropSize` `crop_size`, `flip` the negation of `no_flip`, `lambdaA`/`lambdaB`
/// `lambda_A`/`lambda_B`, `lambdaIdentity` `lambda_identity`, `poolSize` `pool_size`,
/// `epochs` `n_epochs`, `decayEpochs` `n_epochs_decay`, `decayIterations` `lr_decay_iters`,
/// `inputChannels`/`outputChannels` `input_nc`/`output_nc`, `layersD` `n_layers_D`,
/// `sampleFrequency` `display_freq`, `latestFrequency` `save_latest_freq`, `epochFrequency`
/// `save_epoch_freq`.
public struct TrainingOptions: Codable, Sendable, Equatable {
  /// How each image is brought to the training size (the reference's `--preprocess`).
  public enum Preprocess: String, Codable, Sendable, CaseIterable {
    /// Resize to `loadSize`×`loadSize` (bicubic), then a random `cropSize` crop.
    case resizeAndCrop = "resize_and_crop"
    /// A random `cropSize` crop of the image as it is.
    case crop
    /// Scale so the width is `loadSize` keeping the aspect (height at least `cropSize`).
    case scaleWidth = "scale_width"
    /// `scaleWidth`, then a random `cropSize` crop.
    case scaleWidthAndCrop = "scale_width_and_crop"
    /// The image as it is, resized to the nearest multiple of 4 on each side.
    case none

    /// Whether a random square crop of `cropSize` follows the resize.
    public var crops: Bool { self == .resizeAndCrop || self == .crop || self == .scaleWidthAndCrop }

    /// Whether every sample comes out `cropSize`×`cropSize`, so that batches can be stacked.
    public var fixedSize: Bool { crops }
  }

  /// The adversarial loss (`--gan_mode`).
  public enum GANMode: String, Codable, Sendable, CaseIterable {
    /// Least squares: mean squared error against 1 for real and 0 for fake.
    case lsgan
    /// The original GAN: binary cross-entropy with logits against 1 and 0.
    case vanilla
  }

  /// How the learning rate changes over the epochs (`--lr_policy`).
  public enum LearningRatePolicy: String, Codable, Sendable, CaseIterable {
    /// Constant for `epochs`, then linearly to zero over `decayEpochs`.
    case linear
    /// Multiplied by 0.1 every `decayIterations` epochs.
    case step
    /// Cosine annealing from the base rate to zero over `epochs`.
    case cosine
    /// Multiplied by 0.2 when the generator loss has not improved for 5 epochs.
    case plateau
  }

  /// The generator architecture (`--netG`).
  public enum GeneratorArchitecture: String, Codable, Sendable, CaseIterable {
    case resnet9Blocks = "resnet_9blocks"
    case resnet6Blocks = "resnet_6blocks"

    /// The number of residual blocks.
    public var residualBlocks: Int { self == .resnet9Blocks ? 9 : 6 }
  }

  /// The discriminator architecture (`--netD`).
  public enum DiscriminatorArchitecture: String, Codable, Sendable, CaseIterable {
    /// The 70×70 PatchGAN: `n_layers` fixed at 3.
    case basic
    /// A PatchGAN with `layersD` strided layers.
    case nLayers = "n_layers"
    /// 1×1 convolutions only: a per-pixel discriminator.
    case pixel
  }

  /// The normalisation layers of both networks (`--norm`).
  public enum Normalization: String, Codable, Sendable, CaseIterable {
    case instance
    case batch
    case none
  }

  /// How the weights are initialised (`--init_type`).
  public enum Initialization: String, Codable, Sendable, CaseIterable {
    case normal
    case xavier
    case kaiming
    case orthogonal
  }

  /// How the generator's two up-sampling stages are built.
  public enum Upsampling: String, Codable, Sendable, CaseIterable {
    /// Transposed 3×3 convolutions, stride 2, as the reference.
    case transposed
    /// Nearest-neighbour up-sampling by 2 followed by a 3×3 convolution (no checkerboard).
    case nearest
    /// Bilinear up-sampling by 2 followed by a 3×3 convolution.
    case bilinear
  }

  // MARK: Data

  /// The folder of domain A images (scanned recursively for PNG and JPEG files).
  public var folderA: String
  /// The folder of domain B images.
  public var folderB: String
  /// The run's name: its folder is `checkpointsDirectory/name`.
  public var name: String
  /// Where run folders are made (`--checkpoints_dir`).
  public var checkpointsDirectory = "checkpoints"
  /// A name for domain A, written into model directories (default: the folder's name).
  public var domainA: String
  /// A name for domain B.
  public var domainB: String
  public var batchSize = 1
  public var loadSize = 286
  public var cropSize = 256
  public var preprocess = Preprocess.resizeAndCrop
  /// Random horizontal flips (the reference's default; `--no-flip` turns them off).
  public var flip = true
  /// At most this many images of each folder are used (the first ones in sorted order).
  public var maxDatasetSize: Int? = nil
  /// Take A in order and B as `index mod |B|` instead of shuffling A and drawing B at random.
  public var serialBatches = false
  /// Seeds every random choice: initial weights, loader order, crops, flips, pools, dropout.
  public var seed: UInt64 = 0
  /// Channels of domain A images (1 = grey, 3 = RGB).
  public var inputChannels = 3
  /// Channels of domain B images.
  public var outputChannels = 3

  // MARK: Model

  public var ngf = 64
  public var ndf = 64
  public var generator = GeneratorArchitecture.resnet9Blocks
  public var discriminator = DiscriminatorArchitecture.basic
  /// Strided layers of the `n_layers` discriminator (`basic` is 3).
  public var layersD = 3
  public var normalization = Normalization.instance
  /// Dropout 0.5 in the residual blocks (off by default for CycleGAN, as the reference).
  public var dropout = false
  public var initialization = Initialization.normal
  public var initializationGain = 0.02
  public var upsampling = Upsampling.transposed

  // MARK: Objective

  public var lambdaA = 10.0
  public var lambdaB = 10.0
  /// Weight of the identity loss relative to `lambdaA`/`lambdaB`; 0 turns it off.
  public var lambdaIdentity = 0.5
  /// Generated images kept to show the discriminators (0: always the newest).
  public var poolSize = 50
  public var ganMode = GANMode.lsgan

  // MARK: Optimisation

  public var learningRate = 0.0002
  public var beta1 = 0.5
  /// Adam's second-moment decay (the reference fixes it at 0.999).
  public var beta2 = 0.999
  /// Epochs at the starting learning rate.
  public var epochs = 100
  /// Epochs of linear decay to zero that follow (`linear` policy).
  public var decayEpochs = 100
  public var learningRatePolicy = LearningRatePolicy.linear
  /// The period in epochs of the `step` policy.
  public var decayIterations = 50

  // MARK: Output

  /// Save `latest` every this many steps (and at the end of every epoch).
  public var latestFrequency = 5000
  /// Save a numbered checkpoint every this many epochs.
  public var epochFrequency = 5
  /// Save sample translations every this many steps (and at the end of every epoch).
  public var sampleFrequency = 400
  /// Write a plain progress line to the log every this many steps.
  public var printFrequency = 100
  /// Compute threads (nil: every core).
  public var threads: Int? = nil

  /// Options for a run on two folders, everything else at the reference's defaults.
  public init(folderA: String, folderB: String, name: String) {
    self.folderA = folderA
    self.folderB = folderB
    self.name = name
    (self.domainA, self.domainB) = TrainingOptions.defaultDomainNames(
      folderA: folderA, folderB: folderB)
  }

  /// The total number of epochs the run lasts.
  public var totalEpochs: Int {
    learningRatePolicy == .linear ? epochs + decayEpochs : epochs
  }

  /// The run folder: `checkpointsDirectory/name`.
  public var runDirectory: String { TrainingOptions.runDirectory(checkpointsDirectory, name) }

  /// The folder of run `name` under `checkpoints`.
  public static func runDirectory(_ checkpoints: String, _ name: String) -> String {
    checkpoints.hasSuffix("/") ? checkpoints + name : checkpoints + "/" + name
  }

  /// Whether the identity loss takes part (it needs as many channels in A as in B).
  public var usesIdentityLoss: Bool { lambdaIdentity > 0 }

  /// Names for the two domains from their folders: the last path components (`trainA`,
  /// `trainB`), or, when those are the same (`horses/train` and `zebras/train`), the first
  /// components from the end that differ (`horses`, `zebras`); `A` and `B` when no component
  /// tells them apart.
  static func defaultDomainNames(folderA: String, folderB: String) -> (String, String) {
    func components(_ folder: String) -> [String] {
      folder.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }.reversed()
    }
    let (fromEndA, fromEndB) = (components(folderA), components(folderB))
    for (nameA, nameB) in zip(fromEndA, fromEndB)
    where nameA != nameB && nameA != ".." && nameB != ".." {
      return (nameA, nameB)
    }
    return ("A", "B")
  }

  /// Checks every option against the others before any work starts.
  /// - Throws: `TrainingError.invalidOptions` naming the option and what to do instead.
  public func validate() throws(TrainingError) {
    func fail(_ message: String) -> TrainingError { .invalidOptions(message) }

    if name.isEmpty || name.contains("/") || name == "." || name == ".." {
      throw fail("--name must be a plain folder name without '/', got '\(name)'")
    }
    if batchSize < 1 { throw fail("--batch-size must be at least 1, got \(batchSize)") }
    if loadSize < 1 || cropSize < 1 {
      throw fail("--load-size and --crop-size must be positive, got \(loadSize) and \(cropSize)")
    }
    if (preprocess == .resizeAndCrop || preprocess == .scaleWidthAndCrop) && cropSize > loadSize {
      throw fail(
        "--crop-size \(cropSize) is larger than --load-size \(loadSize): a \(preprocess.rawValue)"
          + " crop must fit inside the resized image")
    }
    if preprocess.crops && cropSize % 4 != 0 {
      throw fail(
        "--crop-size must be a multiple of 4 (the generator halves the size twice), got \(cropSize)"
      )
    }
    if !preprocess.fixedSize && batchSize > 1 {
      throw fail(
        "--preprocess \(preprocess.rawValue) gives images of different sizes, which cannot be"
          + " stacked into batches: use --batch-size 1 or a preprocess mode that crops")
    }
    if let maxDatasetSize, maxDatasetSize < 1 {
      throw fail("--max-dataset-size must be at least 1, got \(maxDatasetSize)")
    }
    for (option, channels) in [("--input-nc", inputChannels), ("--output-nc", outputChannels)]
    where channels != 1 && channels != 3 {
      throw fail("\(option) must be 1 (grey) or 3 (RGB), got \(channels)")
    }
    if ngf < 1 || ndf < 1 { throw fail("--ngf and --ndf must be positive, got \(ngf), \(ndf)") }
    if layersD < 1 || layersD > 8 {
      throw fail("--n-layers-d must be from 1 to 8, got \(layersD)")
    }
    if initializationGain <= 0 {
      throw fail("--init-gain must be positive, got \(initializationGain)")
    }
    if lambdaA < 0 || lambdaB < 0 || lambdaIdentity < 0 {
      throw fail("--lambda-a, --lambda-b and --lambda-identity cannot be negative")
    }
    if lambdaIdentity > 0 && inputChannels != outputChannels {
      throw fail(
        "the identity loss compares G_A(B) with B, so it needs --input-nc equal to --output-nc"
          + " (got \(inputChannels) and \(outputChannels)): set --lambda-identity 0")
    }
    if discriminator != .pixel && preprocess.fixedSize {
      let layers = discriminator == .basic ? 3 : layersD
      if TrainingOptions.patchSize(imageSize: cropSize, layers: layers) < 1 {
        throw fail(
          "--crop-size \(cropSize) is too small for a \(layers)-layer PatchGAN discriminator,"
            + " whose output would be empty: use a larger crop or fewer --n-layers-d")
      }
    }
    if poolSize < 0 { throw fail("--pool-size cannot be negative, got \(poolSize)") }
    if !(learningRate > 0) { throw fail("--lr must be positive, got \(learningRate)") }
    if !(0..<1).contains(beta1) || !(0..<1).contains(beta2) {
      throw fail("--beta1 and --beta2 must be in [0, 1), got \(beta1) and \(beta2)")
    }
    if epochs < 1 { throw fail("--n-epochs must be at least 1, got \(epochs)") }
    if decayEpochs < 0 { throw fail("--n-epochs-decay cannot be negative, got \(decayEpochs)") }
    if decayIterations < 1 {
      throw fail("--lr-decay-iters must be at least 1, got \(decayIterations)")
    }
    for (option, value) in [
      ("--save-latest-freq", latestFrequency), ("--save-epoch-freq", epochFrequency),
      ("--sample-freq", sampleFrequency), ("--print-freq", printFrequency),
    ] where value < 1 {
      throw fail("\(option) must be at least 1, got \(value)")
    }
  }

  /// The side of a PatchGAN's output for a square input of side `imageSize`: `layers` 4×4
  /// convolutions of stride 2 and padding 1, then two of stride 1.
  static func patchSize(imageSize: Int, layers: Int) -> Int {
    var side = imageSize
    for _ in 0..<layers { side = side >= 2 ? (side - 2) / 2 + 1 : 0 }
    return side - 2
  }

  /// Whether `other` describes the same networks, so that weights of one fit the other.
  public func sameArchitecture(as other: TrainingOptions) -> Bool {
    inputChannels == other.inputChannels && outputChannels == other.outputChannels
      && ngf == other.ngf && ndf == other.ndf && generator == other.generator
      && discriminator == other.discriminator && layersD == other.layersD
      && normalization == other.normalization && dropout == other.dropout
      && upsampling == other.upsampling
  }
}
