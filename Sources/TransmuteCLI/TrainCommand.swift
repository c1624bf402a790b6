/// `transmute train`: CycleGAN training on two folders of unpaired images.
import Foundation
import Training

enum TrainCommand: Command {
  static let name = "train"
  static let summary = "Train a CycleGAN model on two folders of unpaired images."
  static let synopsis = "train --a DIR --b DIR --name NAME [OPTIONS]"
  static let discussion = """
    Both folders are searched recursively for PNG and JPEG files. The run folder \
    CHECKPOINTS/NAME receives options.json, log.txt, losses.jsonl, samples/, index.html and the \
    checkpoints latest/ and epoch_NNN/ (model directories that 'transmute translate' reads). \
    Ctrl-C saves latest/ and stops; --continue resumes from it exactly. Defaults are those of \
    the PyTorch reference (pytorch-CycleGAN-and-pix2pix); docs/TRAINING.md explains each option.
    """

  static let options: [OptionSpec] = [
    .value("a", "DIR", help: "Folder of domain A images."),
    .value("b", "DIR", help: "Folder of domain B images."),
    .value("name", "NAME", help: "Name of the run (its folder is CHECKPOINTS/NAME)."),
    .value("checkpoints", "DIR", default: "checkpoints", help: "Where run folders are made."),
    .flag("continue", help: "Resume the run from its latest checkpoint."),
    .value(
      "domain-a", "WORD", help: "Name of domain A in the model (default: from the folder names)."),
    .value(
      "domain-b", "WORD", help: "Name of domain B in the model (default: from the folder names)."),
    .value("batch-size", "N", default: "1", help: "Images per step."),
    .value("load-size", "PX", default: "286", help: "Size images are scaled to before cropping."),
    .value("crop-size", "PX", default: "256", help: "Size of the random crops trained on."),
    .value(
      "preprocess", "MODE", default: "resize_and_crop",
      help: "resize_and_crop, crop, scale_width, scale_width_and_crop or none."),
    .flag("no-flip", help: "Do not flip images left to right at random."),
    .value(
      "max-dataset-size", "N", help: "Use at most N images of each folder (default: all)."),
    .flag("serial-batches", help: "Take images in order instead of at random."),
    .value("seed", "N", default: "0", help: "Seed of every random choice."),
    .value("input-nc", "C", default: "3", help: "Channels of domain A: 1 (grey) or 3 (RGB)."),
    .value("output-nc", "C", default: "3", help: "Channels of domain B: 1 (grey) or 3 (RGB)."),
    .value("ngf", "N", default: "64", help: "Generator filters in the first layer."),
    .value("ndf", "N", default: "64", help: "Discriminator filters in the first layer."),
    .value("netG", "ARCH", default: "resnet_9blocks", help: "resnet_9blocks or resnet_6blocks."),
    .value("netD", "ARCH", default: "basic", help: "basic, n_layers or pixel."),
    .value("n-layers-d", "N", default: "3", help: "Layers of the n_layers discriminator."),
    .value("norm", "KIND", default: "instance", help: "instance, batch or none."),
    .flag("dropout", help: "Dropout 0.5 in the generator's residual blocks."),
    .value("init-type", "KIND", default: "normal", help: "normal, xavier, kaiming or orthogonal."),
    .value("init-gain", "X", default: "0.02", help: "Scale of the initial weights."),
    .value(
      "upsample", "KIND", default: "transposed",
      help: "Generator up-sampling: transposed, nearest or bilinear (then a convolution)."),
    .value("lambda-a", "X", default: "10", help: "Weight of the cycle loss A -> B -> A."),
    .value("lambda-b", "X", default: "10", help: "Weight of the cycle loss B -> A -> B."),
    .value(
      "lambda-identity", "X", default: "0.5",
      help: "Weight of the identity loss, relative to lambda-a/b (0: off)."),
    .value("pool-size", "N", default: "50", help: "Generated images kept for the discriminators."),
    .value("gan-mode", "MODE", default: "lsgan", help: "lsgan or vanilla."),
    .value("lr", "X", default: "0.0002", help: "Initial learning rate of Adam."),
    .value("beta1", "X", default: "0.5", help: "Adam's first-moment decay."),
    .value("n-epochs", "N", default: "100", help: "Epochs at the initial learning rate."),
    .value("n-epochs-decay", "N", default: "100", help: "Epochs of linear decay to zero."),
    .value("lr-policy", "KIND", default: "linear", help: "linear, step, cosine or plateau."),
    .value("lr-decay-iters", "N", default: "50", help: "Epochs between steps of the step policy."),
    .value("save-latest-freq", "N", default: "5000", help: "Save latest/ every N steps."),
    .value("save-epoch-freq", "N", default: "5", help: "Save epoch_NNN/ every N epochs."),
    .value("sample-freq", "N", default: "400", help: "Save sample translations every N steps."),
    .value("print-freq", "N", default: "100", help: "Write a line to log.txt every N steps."),
    .value(
      "threads", "N",
      help: "Compute threads (default: all cores; decoding runs on one more thread)."),
  ]

  /// The options that fix the networks' shapes: a continued run must keep them.
  static let architectureOptions = [
    "input-nc", "output-nc", "ngf", "ndf", "netG", "netD", "n-layers-d", "norm", "dropout",
    "upsample",
  ]

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard arguments.positionals.isEmpty else {
      throw UsageError(
        "'train' takes no positional arguments, got '\(arguments.positionals[0])'",
        hint: "give the folders as --a DIR --b DIR")
    }
    let resume = arguments.flag("continue")
    let options = try resolvedOptions(arguments)
    try validate(options)

    let trainer = try Trainer(options: options, resume: resume)
    let display = TrainingDisplay(console: console)
    trainer.observer = display
    let outcome = try trainer.run()
    display.finish()
    switch outcome {
    case .finished:
      console.out("trained \(options.name): model in \(trainer.folder.latestCheckpoint)")
      return 0
    case .interrupted:
      console.out(
        "stopped: saved \(trainer.folder.latestCheckpoint); continue with"
          + " 'transmute train --name \(options.name) --checkpoints \(options.checkpointsDirectory)"
          + " --continue'")
      return 130
    }
  }

  /// The options of the call: the defaults, or with `--continue` the saved options of the run,
  /// overridden by what was given on the command line.
  static func resolvedOptions(_ arguments: ParsedArguments) throws -> TrainingOptions {
    let name = try arguments.required("name", placeholder: "NAME")
    let checkpoints = arguments.string("checkpoints") ?? "checkpoints"

    var options: TrainingOptions
    if arguments.flag("continue") {
      let folder = RunFolder(path: TrainingOptions.runDirectory(checkpoints, name))
      guard FileManager.default.fileExists(atPath: folder.optionsFile) else {
        throw UsageError(
          "there is no run '\(name)' in \(checkpoints) to continue (no \(folder.optionsFile))",
          hint: "check --name and --checkpoints, or start the run without --continue")
      }
      options = try folder.loadOptions()
      for option in architectureOptions
      where arguments.values[option] != nil || arguments.flags.contains(option) {
        throw UsageError(
          "'--\(option)' cannot change when continuing: the saved networks fix it",
          hint: "leave it out to keep \(folder.optionsFile)'s value")
      }
    } else {
      let a = try arguments.required("a", placeholder: "DIR")
      let b = try arguments.required("b", placeholder: "DIR")
      options = TrainingOptions(folderA: a, folderB: b, name: name)
    }
    options.name = name
    options.checkpointsDirectory = checkpoints

    // Given options override; without --continue absent ones take their defaults.
    let fresh = !arguments.flag("continue")
    func given(_ option: String) -> Bool {
      fresh || arguments.values[option] != nil
    }
    if let a = arguments.values["a"]?.last { options.folderA = a }
    if let b = arguments.values["b"]?.last { options.folderB = b }
    if let domain = arguments.values["domain-a"]?.last { options.domainA = domain }
    if let domain = arguments.values["domain-b"]?.last { options.domainB = domain }

    func int(_ option: String, _ range: ClosedRange<Int>, into value: inout Int) throws {
      if given(option), let parsed = try arguments.int(option, in: range) { value = parsed }
    }
    func double(_ option: String, _ range: ClosedRange<Double>, into value: inout Double) throws {
      if given(option), let parsed = try arguments.double(option, in: range) { value = parsed }
    }
    func choice<Choice: RawRepresentable & CaseIterable>(_ option: String, into value: inout Choice)
      throws where Choice.RawValue == String
    {
      guard given(option),
        let text = try arguments.choice(option, Choice.allCases.map(\.rawValue)),
        let parsed = Choice(rawValue: text)
      else { return }
      value = parsed
    }
    func flag(_ option: String, into value: inout Bool, when set: Bool) {
      if arguments.flag(option) { value = set } else if fresh { value = !set }
    }

    try int("batch-size", 1...4096, into: &options.batchSize)
    try int("load-size", 1...16384, into: &options.loadSize)
    try int("crop-size", 1...16384, into: &options.cropSize)
    try choice("preprocess", into: &options.preprocess)
    flag("no-flip", into: &options.flip, when: false)
    if let text = arguments.values["max-dataset-size"]?.last {
      guard let size = Int(text), size >= 1 else {
        throw UsageError("option '--max-dataset-size' needs a whole number from 1, got '\(text)'")
      }
      options.maxDatasetSize = size
    }
    flag("serial-batches", into: &options.serialBatches, when: true)
    if given("seed"), let text = arguments.string("seed") {
      guard let seed = UInt64(text) else {
        throw UsageError("option '--seed' needs a whole number from 0, got '\(text)'")
      }
      options.seed = seed
    }
    try int("input-nc", 1...3, into: &options.inputChannels)
    try int("output-nc", 1...3, into: &options.outputChannels)
    try int("ngf", 1...1024, into: &options.ngf)
    try int("ndf", 1...1024, into: &options.ndf)
    try choice("netG", into: &options.generator)
    try choice("netD", into: &options.discriminator)
    try int("n-layers-d", 1...8, into: &options.layersD)
    try choice("norm", into: &options.normalization)
    flag("dropout", into: &options.dropout, when: true)
    try choice("init-type", into: &options.initialization)
    try double("init-gain", 0...10, into: &options.initializationGain)
    try choice("upsample", into: &options.upsampling)
    try double("lambda-a", 0...1e6, into: &options.lambdaA)
    try double("lambda-b", 0...1e6, into: &options.lambdaB)
    try double("lambda-identity", 0...1e6, into: &options.lambdaIdentity)
    try int("pool-size", 0...100_000, into: &options.poolSize)
    try choice("gan-mode", into: &options.ganMode)
    try double("lr", 0...1, into: &options.learningRate)
    try double("beta1", 0...0.999_999, into: &options.beta1)
    try int("n-epochs", 1...1_000_000, into: &options.epochs)
    try int("n-epochs-decay", 0...1_000_000, into: &options.decayEpochs)
    try choice("lr-policy", into: &options.learningRatePolicy)
    try int("lr-decay-iters", 1...1_000_000, into: &options.decayIterations)
    try int("save-latest-freq", 1...Int.max, into: &options.latestFrequency)
    try int("save-epoch-freq", 1...Int.max, into: &options.epochFrequency)
    try int("sample-freq", 1...Int.max, into: &options.sampleFrequency)
    try int("print-freq", 1...Int.max, into: &options.printFrequency)
    if let text = arguments.values["threads"]?.last {
      guard let threads = Int(text), (1...256).contains(threads) else {
        throw UsageError("option '--threads' needs a whole number from 1 to 256, got '\(text)'")
      }
      options.threads = threads
    }
    return options
  }

  /// Turns the options' own checks into usage errors, and checks the folders exist.
  static func validate(_ options: TrainingOptions) throws {
    do {
      try options.validate()
    } catch {
      throw UsageError(error.description)
    }
    for folder in [options.folderA, options.folderB] {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder),
        isFolder.boolValue
      else {
        throw UsageError("\(folder): no such folder", hint: "give two folders of images")
      }
    }
  }
}
