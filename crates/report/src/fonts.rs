//! The CJK font a PDF report is set in, found once per process.
//!
//! The font comes from a package of the operating system's registry (Debian's
//! `fonts-noto-cjk`: Noto Sans CJK SC), never from the network. `XINYONG_REPORT_FONT`
//! names another file (`path` or `path#index` for a collection). The PDF embeds only the
//! glyphs a report uses (krilla subsets it).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use skrifa::instance::{LocationRef, Size};
use skrifa::raw::FileRef;
use skrifa::{FontRef, MetadataProvider};

use crate::ReportError;

/// Where Debian and other distributions put a Simplified Chinese face.
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansSC-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];
/// The face wanted inside a collection (Noto's collection holds JP, KR, SC, TC, HK).
const PREFERRED_FAMILY: &str = "Noto Sans CJK SC";
pub const FONT_ENV: &str = "XINYONG_REPORT_FONT";

/// A loaded face: its bytes for the PDF and its advances for line breaking.
#[derive(Clone)]
pub struct ReportFont {
    data: Arc<Vec<u8>>,
    index: u32,
    pub path: PathBuf,
    pdf: krilla::text::Font,
}

impl std::fmt::Debug for ReportFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportFont").field("path", &self.path).field("index", &self.index).finish()
    }
}

impl ReportFont {
    /// The process's font: `XINYONG_REPORT_FONT`, else the first candidate present.
    pub fn shared() -> Result<&'static ReportFont, ReportError> {
        static FONT: OnceLock<Result<ReportFont, ReportError>> = OnceLock::new();
        FONT.get_or_init(ReportFont::discover).as_ref().map_err(Clone::clone)
    }

    fn discover() -> Result<ReportFont, ReportError> {
        if let Ok(spec) = std::env::var(FONT_ENV) {
            let (path, index) = match spec.rsplit_once('#') {
                Some((p, i)) => (p.to_string(), i.parse::<u32>().ok()),
                None => (spec.clone(), None),
            };
            return ReportFont::load(Path::new(&path), index);
        }
        let found = CANDIDATES.iter().map(Path::new).find(|p| p.exists()).ok_or_else(|| ReportError::Font {
            zh: format!("未找到中文字体：请安装 fonts-noto-cjk，或以 {FONT_ENV} 指定字体文件"),
            en: format!("no CJK font: install fonts-noto-cjk (Debian) or set {FONT_ENV} to a font file"),
        })?;
        ReportFont::load(found, None)
    }

    /// Loads `path`; in a collection, face `index` or else the Simplified Chinese one.
    pub fn load(path: &Path, index: Option<u32>) -> Result<ReportFont, ReportError> {
        let data = std::fs::read(path).map_err(|e| unusable(path, &e.to_string()))?;
        let index = match index {
            Some(i) => i,
            None => preferred_index(&data),
        };
        let data = Arc::new(data);
        let pdf = krilla::text::Font::new(krilla::Data::from(data.clone()), index)
            .ok_or_else(|| unusable(path, &format!("face {index} cannot be read")))?;
        let font = ReportFont { data, index, path: path.to_path_buf(), pdf };
        font.face()?;
        Ok(font)
    }

    fn face(&self) -> Result<FontRef<'_>, ReportError> {
        FontRef::from_index(&self.data, self.index).map_err(|e| unusable(&self.path, &e.to_string()))
    }

    pub(crate) fn pdf_font(&self) -> krilla::text::Font {
        self.pdf.clone()
    }

    /// Measures text at one size (advances of the font's own glyphs; a character the
    /// face lacks counts one em, which only ever breaks a line early).
    pub(crate) fn measurer(&self, size: f32) -> Result<Measurer<'_>, ReportError> {
        let face = self.face()?;
        Ok(Measurer { face, size })
    }
}

pub(crate) struct Measurer<'a> {
    face: FontRef<'a>,
    size: f32,
}

impl Measurer<'_> {
    pub fn width(&self, text: &str) -> f32 {
        let charmap = self.face.charmap();
        let metrics = self.face.glyph_metrics(Size::new(self.size), LocationRef::default());
        text.chars().map(|c| charmap.map(c).and_then(|g| metrics.advance_width(g)).unwrap_or(self.size)).sum()
    }

    /// Breaks `text` into lines no wider than `max` (by character: Chinese has no
    /// spaces to break at; a Latin word may split, which a report can bear).
    pub fn wrap(&self, text: &str, max: f32) -> Vec<String> {
        let charmap = self.face.charmap();
        let metrics = self.face.glyph_metrics(Size::new(self.size), LocationRef::default());
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut width = 0.0;
            for c in para.chars() {
                let w = charmap.map(c).and_then(|g| metrics.advance_width(g)).unwrap_or(self.size);
                if width + w > max && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    width = 0.0;
                }
                line.push(c);
                width += w;
            }
            lines.push(line);
        }
        lines
    }
}

fn unusable(path: &Path, why: &str) -> ReportError {
    ReportError::Font {
        zh: format!("字体 {} 不可用：{why}", path.display()),
        en: format!("font {} is unusable: {why}", path.display()),
    }
}

/// The index of the preferred family in a collection (0 for a single font).
fn preferred_index(data: &[u8]) -> u32 {
    let Ok(FileRef::Collection(c)) = FileRef::new(data) else { return 0 };
    (0..c.len())
        .find(|&i| {
            c.get(i).is_ok_and(|f| {
                f.localized_strings(skrifa::string::StringId::FAMILY_NAME)
                    .any(|s| s.chars().collect::<String>() == PREFERRED_FAMILY)
            })
        })
        .unwrap_or(0)
}
