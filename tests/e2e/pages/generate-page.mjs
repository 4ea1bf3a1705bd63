// Page object for the generation form: found by accessible names, as a user would.
export class GeneratePage {
  constructor(page) {
    this.page = page;
    this.prompt = page.getByRole('textbox', { name: 'Prompt' });
    this.generate = page.getByRole('button', { name: 'Generate' });
    this.status = page.getByRole('status');
    this.clip = page.getByRole('img', { name: 'Generated clip' });
  }

  async open(url) {
    const errors = [];
    this.page.on('pageerror', (error) => errors.push(error.message));
    this.errors = errors;
    await this.page.goto(url);
    await this.prompt.waitFor();
  }

  async generateFrom(text) {
    await this.prompt.fill(text);
    await this.generate.click();
    await this.page.waitForFunction(
      () => /^(Done|Generation failed|Something went wrong)/.test(
        document.querySelector('[role=status]')?.textContent ?? ''),
      null,
      { timeout: 120_000 },
    );
    return this.status.textContent();
  }

  /** The canvas' pixels as {width, height, rgb: number[]} (alpha dropped). */
  async clipPixels() {
    return this.clip.evaluate((canvas) => {
      const { width, height } = canvas;
      const rgba = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      const rgb = [];
      for (let i = 0; i < rgba.length; i += 4) rgb.push(rgba[i], rgba[i + 1], rgba[i + 2]);
      return { width, height, rgb };
    });
  }
}
