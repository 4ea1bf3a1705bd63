//! `freenoise`: the engine from the command line. Thin: parse → Pipeline → write outputs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use engine::freenoise::prompts::Interpolation;
use engine::freenoise::{FusionPlacement, NoiseType, Weighting};
use engine::npy::{read_npy_file, write_npy};
use engine::pipeline::{FreeNoiseSettings, Latents, Output, Pipeline, Progress, Request};
use engine::schedulers::{BetaSchedule, Sampler};
use engine::store::{AdapterFile, DirStore, ModelStore};
use engine::{Backend, EngineError};

#[derive(Parser)]
#[command(name = "freenoise", version, about = "Long text-to-video clips with FreeNoise (AnimateDiff models in diffusers layout)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a clip from a prompt.
    Generate(GenerateArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// A diffusers AnimateDiff pipeline folder (or an SD1.5 pipeline with --motion-adapter).
    #[arg(long)]
    model: PathBuf,
    /// A diffusers MotionAdapter folder, when the model's unet/ is a plain SD1.5 UNet; or one
    /// adapter .safetensors file with no config (AnimateDiff-Lightning's), read from its tensors.
    #[arg(long)]
    motion_adapter: Option<PathBuf>,
    #[arg(long)]
    prompt: String,
    /// Negative prompt (used when guidance > 1).
    #[arg(long)]
    negative: Option<String>,
    /// Frames to generate [default: 16, or the --init-latents shape].
    #[arg(long)]
    frames: Option<usize>,
    /// Height in pixels, a multiple of 8 [default: 512, or the --init-latents shape].
    #[arg(long)]
    height: Option<usize>,
    /// Width in pixels, a multiple of 8 [default: 512, or the --init-latents shape].
    #[arg(long)]
    width: Option<usize>,
    #[arg(long, default_value_t = 25)]
    steps: usize,
    /// Classifier-free guidance scale; 1 or less turns guidance off.
    #[arg(long, default_value_t = 7.5)]
    guidance: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Noise schedule [default: the sampler's, else the model's].
    #[arg(long, value_enum)]
    beta_schedule: Option<BetaSchedule>,
    /// Sampler [default: the model's scheduler/scheduler_config.json, DDIM on its betas for a
    /// class the engine does not run, such as PNDM].
    #[arg(long, value_enum)]
    scheduler: Option<Sampler>,
    /// float32 .npy of shape (1, C, F, h, w): unit-variance noise, before the scheduler's
    /// init_noise_sigma scaling (diffusers' `latents=`).
    #[arg(long)]
    init_latents: Option<PathBuf>,
    /// Write the final denoised latents (1, C, F, h, w) as float32 .npy.
    #[arg(long)]
    save_latents: Option<PathBuf>,
    /// Write the decoded video (F, H, W, 3) in [0, 1] as float32 .npy.
    #[arg(long)]
    save_video: Option<PathBuf>,
    /// Write an animated GIF.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Frames per second of the GIF.
    #[arg(long, default_value_t = 8)]
    fps: u32,
    /// Frames per VAE decode call.
    #[arg(long, default_value_t = 16)]
    decode_chunk: usize,
    /// FreeNoise for clips longer than the context length (off: plain sampling, limited to the
    /// motion module's position table).
    #[arg(long, value_enum, default_value = "on")]
    freenoise: Switch,
    /// FreeNoise window: frames one temporal attention sees.
    #[arg(long, default_value_t = 16)]
    context_length: usize,
    /// FreeNoise stride between windows.
    #[arg(long, default_value_t = 4)]
    context_stride: usize,
    /// How overlapping windows are weighted when fused.
    #[arg(long, value_enum, default_value_t = Weighting::Pyramid)]
    weighting: Weighting,
    /// Initial noise: shuffle (FreeNoise's rescheduling), repeat (the first window again), random.
    #[arg(long, value_enum, default_value_t = NoiseType::Shuffle)]
    noise: NoiseType,
    /// Where window outputs are fused.
    #[arg(long, value_enum, default_value_t = FusionPlacement::Block)]
    fusion: FusionPlacement,
    /// A keyframe prompt, FRAME=TEXT (repeatable; frame 0 must have one, --prompt is its default).
    #[arg(long = "prompt-at", value_name = "FRAME=TEXT")]
    prompt_at: Vec<String>,
    /// A keyframe negative prompt, FRAME=TEXT (repeatable; --negative fills frame 0).
    #[arg(long = "negative-at", value_name = "FRAME=TEXT")]
    negative_at: Vec<String>,
    /// How embeddings travel between keyframes.
    #[arg(long, value_enum, default_value_t = Interpolation::Linear)]
    interpolation: Interpolation,
    /// Split inference: at most N frames at a time through the spatial layers (and pixel
    /// sequences in as many chunks through the motion modules). Same result within 1e-5; a
    /// value of at least the frame count turns it off.
    #[arg(long, value_name = "N", default_value_t = engine::pipeline::DEFAULT_CHUNK)]
    chunk: usize,
    /// FreeNoise's motion injection for multi-prompt clips (`--motion-injection` alone means on).
    #[arg(long, value_enum, default_value = "off", num_args = 0..=1, default_missing_value = "on")]
    motion_injection: Switch,
}

fn main() -> ExitCode {
    engine::host_alloc::keep_freed_memory();
    let result = match Cli::parse().command {
        Command::Generate(args) => generate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// An adapter folder, or a bare adapter file seen as one.
fn adapter_store(path: &Path) -> Result<Box<dyn ModelStore>, EngineError> {
    if !path.is_file() {
        return Ok(Box::new(DirStore::new(path)?));
    }
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file = path.file_name().unwrap_or_default().to_string_lossy();
    Ok(Box::new(AdapterFile::new(Box::new(DirStore::new(folder)?), file)))
}

fn generate(args: GenerateArgs) -> Result<(), EngineError> {
    let device = Backend::cpu_device();
    let store = DirStore::new(&args.model)?;
    let adapter = args.motion_adapter.as_deref().map(adapter_store).transpose()?;
    let pipeline = Pipeline::load(&store, adapter.as_deref(), &device)?;

    let init = args.init_latents.as_deref().map(read_latents).transpose()?;
    let scale = pipeline.vae_scale();
    let mut request = Request::new(args.prompt);
    request.negative = args.negative;
    request.frames = args.frames.or(init.as_ref().map(|l| l.shape[2])).unwrap_or(16);
    request.height = args.height.or(init.as_ref().map(|l| l.shape[3] * scale)).unwrap_or(512);
    request.width = args.width.or(init.as_ref().map(|l| l.shape[4] * scale)).unwrap_or(512);
    request.steps = args.steps;
    request.guidance = args.guidance;
    request.seed = args.seed;
    request.sampler = args.scheduler;
    request.beta_schedule = args.beta_schedule;
    request.init_latents = init;
    request.decode_chunk = args.decode_chunk;
    request.free_noise = (args.freenoise == Switch::On).then_some(FreeNoiseSettings {
        window: args.context_length,
        stride: args.context_stride,
        weighting: args.weighting,
        noise: args.noise,
        placement: args.fusion,
    });
    request.keyframes = keyframes("--prompt-at", &request.prompt, &args.prompt_at)?;
    let negative = request.negative.clone().unwrap_or_default();
    request.negative_keyframes = keyframes("--negative-at", &negative, &args.negative_at)?;
    request.interpolation = args.interpolation;
    request.motion_injection = args.motion_injection == Switch::On;
    request.chunk = Some(args.chunk);

    let terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let output = pollster::block_on(pipeline.generate(&request, &mut |p| report(p, started, terminal)))?;
    for warning in &output.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(path) = &args.save_latents {
        write_file(path, &write_npy(&output.latents.shape, &output.latents.data))?;
    }
    if let Some(path) = &args.save_video {
        write_file(path, &write_npy(&[output.frames, output.height, output.width, 3], &output.video))?;
    }
    if let Some(path) = &args.out {
        write_file(path, &encode_gif(&output, args.fps)?)?;
    }
    eprintln!("done: {} frames of {}×{} in {:.1} s", output.frames, output.width, output.height, started.elapsed().as_secs_f64());
    Ok(())
}

/// `FRAME=TEXT` entries of `flag`; `default` fills frame 0 unless an entry is given for it.
fn keyframes(flag: &str, default: &str, entries: &[String]) -> Result<Vec<(usize, String)>, EngineError> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    for entry in entries {
        let (frame, text) = entry.split_once('=').ok_or_else(|| EngineError::Request(format!("{flag} {entry:?}: expected FRAME=TEXT")))?;
        let frame = frame.trim().parse().map_err(|_| EngineError::Request(format!("{flag} {entry:?}: {frame:?} is not a frame number")))?;
        keys.push((frame, text.to_string()));
    }
    if !keys.iter().any(|(f, _)| *f == 0) {
        keys.push((0, default.to_string()));
    }
    Ok(keys)
}

fn read_latents(path: &Path) -> Result<Latents, EngineError> {
    let (array, name) = read_npy_file(path)?;
    let shape: [usize; 5] = array
        .shape
        .clone()
        .try_into()
        .map_err(|_| EngineError::BadFile { file: name.clone(), problem: format!("latents must have shape (1, C, F, h, w), found {:?}", array.shape) })?;
    if shape[0] != 1 {
        return Err(EngineError::BadFile { file: name, problem: format!("batch must be 1, found {}", shape[0]) });
    }
    Ok(Latents { shape, data: array.data })
}

/// One line per step on a terminal (redrawn in place); plain lines otherwise.
fn report(progress: Progress, started: std::time::Instant, terminal: bool) {
    let width = 30;
    let filled = width * progress.step / progress.steps.max(1);
    let line =
        format!("[{}{}] step {}/{} {:.1} s", "#".repeat(filled), "-".repeat(width - filled), progress.step, progress.steps, started.elapsed().as_secs_f64());
    let mut err = std::io::stderr();
    if terminal {
        let _ = write!(err, "\r{line}");
        if progress.step == progress.steps {
            let _ = writeln!(err);
        }
    } else {
        let _ = writeln!(err, "{line}");
    }
}

fn encode_gif(output: &Output, fps: u32) -> Result<Vec<u8>, EngineError> {
    let fail = |e: gif::EncodingError| EngineError::Request(format!("could not encode the GIF: {e}"));
    let (w, h) = (output.width as u16, output.height as u16);
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, w, h, &[]).map_err(fail)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(fail)?;
        for index in 0..output.frames {
            let mut frame = gif::Frame::from_rgb_speed(w, h, &output.frame_rgb8(index), 10);
            frame.delay = (100 / fps.max(1)).max(1) as u16;
            encoder.write_frame(&frame).map_err(fail)?;
        }
    }
    Ok(bytes)
}

fn write_file(path: &PathBuf, bytes: &[u8]) -> Result<(), EngineError> {
    std::fs::write(path, bytes).map_err(|e| EngineError::Io { path: path.display().to_string(), reason: e.to_string() })
}
