// Page object for the generation form and player: found by accessible names, as a user would.
export class GeneratePage {
  constructor(page) {
    this.page = page;
    this.prompt = page.getByRole('textbox', { name: 'Prompt' });
    this.frames = page.getByRole('spinbutton', { name: 'Frames' });
    this.steps = page.getByRole('spinbutton', { name: 'Steps' });
    this.seed = page.getByRole('spinbutton', { name: 'Seed' });
    this.generate = page.getByRole('button', { name: 'Generate' });
    this.cancel = page.getByRole('button', { name: 'Cancel' });
    this.progress = page.getByRole('progressbar', { name: 'Generation progress' });
    this.preview = page.getByRole('img', { name: 'Preview' });
    this.advanced = page.getByText('Advanced');
    this.window = page.getByRole('spinbutton', { name: 'Window' });
    this.stride = page.getByRole('spinbutton', { name: 'Stride' });
    this.status = page.getByRole('status');
    this.clip = page.getByRole('img', { name: 'Generated clip' });
    this.model = page.getByRole('combobox', { name: 'Model' });
    this.hubRepo = page.getByRole('textbox', { name: 'Hub repository' });
    this.adapter = page.getByRole('textbox', { name: 'Motion adapter repository' });
    this.adapterFile = page.getByRole('textbox', { name: 'Motion adapter file' });
    this.guidance = page.getByRole('spinbutton', { name: 'Guidance' });
    this.hubUrl = page.getByRole('textbox', { name: 'Hub URL' });
    this.downloadProgress = page.getByRole('progressbar', { name: 'Download progress' });
    this.deleteModel = page.getByRole('button', { name: 'Delete model' });
    this.storage = page.locator('.storage');
    this.size = page.getByRole('spinbutton', { name: 'Size' });
    this.sampler = page.getByRole('combobox', { name: 'Sampler' });
  }

  /** Waits until the memory estimate line matches `pattern` (and, given `unlike`, says something
   * else than that); returns its text. */
  async estimate(pattern, { unlike = null, timeout = 30_000 } = {}) {
    const handle = await this.page.waitForFunction(
      ([source, unlike]) => {
        const text = document.querySelector('.estimate')?.textContent ?? '';
        return new RegExp(source).test(text) && text !== unlike && text;
      },
      [pattern.source, unlike],
      { timeout },
    );
    return handle.jsonValue();
  }

  /** Picks a model from the (local) Hub by its repo ids. */
  async chooseHub({ hub, repo, adapter = '', adapterFile = '' }) {
    await this.model.selectOption({ label: 'A model from the Hugging Face Hub…' });
    await this.hubUrl.fill(hub);
    await this.hubRepo.fill(repo);
    await this.adapter.fill(adapter);
    await this.adapterFile.fill(adapterFile);
  }

  /** From now on, keeps every value the overall download bar shows (read by downloadValues). */
  async recordDownload() {
    await this.page.evaluate(() => {
      window.downloadValues = [];
      new MutationObserver(() => {
        const bar = document.querySelector('progress[aria-label="Download progress"]');
        if (bar) window.downloadValues.push({ value: Number(bar.value), max: Number(bar.max) });
      }).observe(document.body, { attributes: true, subtree: true, childList: true, attributeFilter: ['value', 'max'] });
    });
  }

  async downloadValues() {
    return this.page.evaluate(() => window.downloadValues);
  }

  /** Flips bytes in the middle of a stored file (an OPFS path, folder by folder). */
  async corruptStored(path) {
    await this.page.evaluate(async (parts) => {
      let dir = await navigator.storage.getDirectory();
      for (const name of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(name);
      const handle = await dir.getFileHandle(parts.at(-1));
      const size = (await handle.getFile()).size;
      const writable = await handle.createWritable({ keepExistingData: true });
      await writable.write({ type: 'write', position: Math.floor(size / 2), data: new Uint8Array(64).fill(0x5a) });
      await writable.close();
    }, path);
  }

  async open(url) {
    this.errors = [];
    this.page.on('pageerror', (error) => this.errors.push(error.message));
    // Whatever the page's Content-Security-Policy blocks (it forbids inline script).
    await this.page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await this.page.goto(url);
    await this.prompt.waitFor();
  }

  /** Fills the request in and presses Generate; `timeout` bounds the wait for a clickable button. */
  async start({ prompt, frames, steps, seed = 0 }, { timeout } = {}) {
    await this.prompt.fill(prompt);
    await this.frames.fill(String(frames));
    await this.steps.fill(String(steps));
    await this.seed.fill(String(seed));
    await this.generate.click({ timeout });
  }

  async waitForEnd(timeout = 300_000) {
    await this.page.waitForFunction(
      () => /^(Done|Cancelled|Generation failed|Something went wrong|Could not|Stopped|The GPU device was lost|The generator crashed)/.test(
        document.querySelector('[role=status]')?.textContent ?? ''),
      null,
      { timeout },
    );
    return this.status.textContent();
  }

  /** Waits until the worker has reported at least `step` finished denoising steps. */
  async waitForStep(step, timeout = 300_000) {
    await this.page.waitForFunction(
      (wanted) => Number(document.querySelector('progress[aria-label="Generation progress"]')?.value ?? 0) >= wanted,
      step,
      { timeout },
    );
  }

  async cspViolations() {
    return this.page.evaluate(() => window.cspViolations);
  }

  async problems() {
    return this.page.locator('.problems li').allTextContents();
  }

  async frameCount() {
    return Number(await this.clip.getAttribute('data-frame-count'));
  }

  /** RGB pixels of clip frame `index`, read in the same task that sees it painted. */
  async framePixels(index) {
    const handle = await this.page.waitForFunction((wanted) => {
      const canvas = document.querySelector('canvas[aria-label="Generated clip"]');
      if (canvas?.dataset.frame !== String(wanted)) return false;
      const { width, height } = canvas;
      const rgba = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      const rgb = [];
      for (let i = 0; i < rgba.length; i += 4) rgb.push(rgba[i], rgba[i + 1], rgba[i + 2]);
      return { width, height, rgb };
    }, index, { timeout: 10_000, polling: 5 });
    return handle.jsonValue();
  }
}
