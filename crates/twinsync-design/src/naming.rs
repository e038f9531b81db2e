//! Story names for variants, both ways: the CSF export name a scaffold gives a variant
//! (`SizeLgDisabled`), the story id Storybook derives from it (`components-button--size-lg-disabled`),
//! and the variant a story's id spells.
//!
//! Words are what Storybook's `storyNameFromExport` + `sanitize` would split an export
//! name into: runs of lower-case ASCII letters and runs of digits. A variant's export
//! name lists, in axis order, only the axes that differ from their default: the axis
//! words then the option words (`SizeLg`); a boolean that is `true` shows just its
//! axis words (`Disabled`), one that is `false` adds `False`. The all-default variant
//! is `Default`.

use serde_json::{Map, Value};

use crate::model::{option_text, DesignComponent, Prop, PropKind};

/// Splits text into lower-case ASCII words at spaces, punctuation, camelCase humps and
/// letter/digit boundaries (`showLabel` -> `show label`, `2xl` -> `2 xl`).
pub fn words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&p) = cur.chars().last().as_ref() {
            let boundary = (p.is_ascii_digit() != c.is_ascii_digit())
                || (p.is_ascii_lowercase() && c.is_ascii_uppercase())
                // `HTMLInput`: the last capital of a run starts the next word.
                || (p.is_ascii_uppercase()
                    && c.is_ascii_uppercase()
                    && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase()));
            if boundary {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    for w in &mut out {
        w.make_ascii_lowercase();
    }
    out
}

fn pascal(ws: &[String]) -> String {
    let mut s = String::new();
    for w in ws {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            s.push(f.to_ascii_uppercase());
            s.extend(cs);
        }
    }
    s
}

/// Storybook's `sanitize`: lower case, punctuation and spaces to `-`, runs of `-`
/// collapsed, leading and trailing `-` removed.
pub fn sanitize(s: &str) -> String {
    const PUNCT: &str = " ’–—―′¿'`~!@#$%^&*()_|+-=?;:'\",.<>{}[]\\/";
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if PUNCT.contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

/// The story id Storybook gives export `export_name` under `title`, for export names
/// made by [`export_name`] (letters and digits only).
pub fn story_id(title: &str, export_name: &str) -> String {
    format!("{}--{}", sanitize(title), words(export_name).join("-"))
}

/// The words naming an option (`x-large` -> `x large`; an option with no ASCII letters
/// or digits is named by its position, `option 3`).
fn option_words(p: &Prop, i: usize) -> Vec<String> {
    let w = words(&option_text(&p.options[i]));
    if w.is_empty() {
        vec!["option".into(), (i + 1).to_string()]
    } else {
        w
    }
}

fn axis_words(p: &Prop) -> Vec<String> {
    let w = words(&p.name);
    if w.is_empty() {
        vec!["prop".into()]
    } else {
        w
    }
}

/// The export name of the variant that picks option `picks[i]` of the component's
/// `i`-th axis (axes as [`DesignComponent::to_coverage`] lists them).
pub fn export_name(c: &DesignComponent, picks: &[usize]) -> String {
    let mut ws: Vec<String> = Vec::new();
    for (p, &pick) in c.props.iter().filter(|p| p.kind.is_axis()).zip(picks) {
        if pick == p.default_index() {
            continue;
        }
        ws.extend(axis_words(p));
        let is_true = p.options[pick] == Value::Bool(true);
        if !(p.kind == PropKind::Boolean && is_true) {
            ws.extend(option_words(p, pick));
        }
    }
    if ws.is_empty() {
        return "Default".into();
    }
    let mut name = pascal(&ws);
    // An identifier cannot start with a digit.
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    name
}

/// The variant a story's id spells, as axis name to option value; `None` when some
/// words name no axis or option of the component. Accepts the scaffold's names and
/// hand-written ones that name options alone (`Large`, `Secondary`) where only one axis
/// has that option.
pub fn parse_story_slug(c: &DesignComponent, story_id: &str) -> Option<Map<String, Value>> {
    StoryReader::new(c).parse(story_id)
}

struct ReaderAxis<'c> {
    prop: &'c Prop,
    words: Vec<String>,
    options: Vec<Vec<String>>,
}

/// A component's axes and options as words, computed once to read many story ids.
pub struct StoryReader<'c> {
    axes: Vec<ReaderAxis<'c>>,
}

fn starts_with(ws: &[&str], prefix: &[String]) -> bool {
    ws.len() >= prefix.len() && prefix.iter().zip(ws).all(|(p, w)| p == w)
}

impl<'c> StoryReader<'c> {
    /// Prepares to read story ids of `c`.
    pub fn new(c: &'c DesignComponent) -> Self {
        let axes = c
            .props
            .iter()
            .filter(|p| p.kind.is_axis())
            .map(|p| ReaderAxis {
                prop: p,
                words: axis_words(p),
                options: (0..p.options.len()).map(|k| option_words(p, k)).collect(),
            })
            .collect();
        StoryReader { axes }
    }

    /// The variant `story_id` spells (see [`parse_story_slug`]).
    pub fn parse(&self, story_id: &str) -> Option<Map<String, Value>> {
        let slug = story_id.rsplit_once("--").map_or(story_id, |(_, s)| s);
        let ws: Vec<&str> = slug.split('-').filter(|w| !w.is_empty()).collect();
        let mut out = Map::new();
        if ws == ["default"] {
            return Some(out);
        }
        let mut i = 0;
        'outer: while i < ws.len() {
            // Axis words, then option words (or nothing, for a boolean meaning `true`).
            for a in &self.axes {
                if starts_with(&ws[i..], &a.words) {
                    let j = i + a.words.len();
                    for (k, ow) in a.options.iter().enumerate() {
                        if starts_with(&ws[j..], ow) {
                            out.insert(a.prop.name.clone(), a.prop.options[k].clone());
                            i = j + ow.len();
                            continue 'outer;
                        }
                    }
                    if a.prop.kind == PropKind::Boolean {
                        out.insert(a.prop.name.clone(), Value::Bool(true));
                        i = j;
                        continue 'outer;
                    }
                }
            }
            // An option alone, if exactly one axis has it.
            let mut found = None;
            for a in &self.axes {
                if a.prop.kind == PropKind::Boolean {
                    continue;
                }
                for (k, ow) in a.options.iter().enumerate() {
                    if starts_with(&ws[i..], ow) {
                        if found.is_some() {
                            return None;
                        }
                        found = Some((a, k, ow.len()));
                    }
                }
            }
            let (a, k, n) = found?;
            out.insert(a.prop.name.clone(), a.prop.options[k].clone());
            i += n;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{DesignComponent, Prop};

    #[test]
    fn words_split_as_storybook_does() {
        assert_eq!(words("showLabel"), ["show", "label"]);
        assert_eq!(words("Show label"), ["show", "label"]);
        assert_eq!(words("show-label"), ["show", "label"]);
        assert_eq!(words("HTMLInput2xl"), ["html", "input", "2", "xl"]);
        assert_eq!(sanitize("Checkbox & Checkbox Group"), "checkbox-checkbox-group");
        assert_eq!(sanitize("Example/Button"), "example-button");
        assert_eq!(story_id("Forms/Text Field", "SizeLgDisabled"), "forms-text-field--size-lg-disabled");
    }

    #[test]
    fn export_names_round_trip_through_story_ids() {
        let mut size = Prop::variant("size", ["sm", "md", "2xl"]);
        size.default = Some(json!("md"));
        let c = DesignComponent::new(
            "Button",
            vec![size, Prop::boolean("disabled", None), Prop::boolean("Show label", Some(true))],
        );
        for a in 0..3 {
            for b in 0..2 {
                for d in 0..2 {
                    let name = export_name(&c, &[a, b, d]);
                    let args = parse_story_slug(&c, &story_id("Components/Button", &name)).unwrap();
                    let full = |k: &str, i: usize| {
                        let p = c.prop(k).unwrap();
                        args.get(k).cloned().unwrap_or_else(|| p.options[p.default_index()].clone()) == p.options[i]
                    };
                    assert!(full("size", a) && full("disabled", b) && full("Show label", d), "{name}: {args:?}");
                }
            }
        }
        assert_eq!(export_name(&c, &[1, 1, 0]), "Default");
        assert_eq!(export_name(&c, &[2, 0, 1]), "Size2XlDisabledShowLabelFalse");
        // Hand-written names: an option alone; words naming nothing are no variant.
        assert_eq!(parse_story_slug(&c, "button--2-xl").unwrap()["size"], json!("2xl"));
        assert_eq!(parse_story_slug(&c, "button--with-tooltip"), None);
    }
}
