// One choice among a few, as a WAI-ARIA radio group: native radio inputs that share one name, in an
// element with role "radiogroup" named by its visible caption. The browser then does the rest of the
// pattern: Tab reaches the group once (the chosen option, or the first), the arrow keys move and choose,
// Space chooses, and Tab leaves. JupyterLab's own shortcuts for those keys (the arrow keys move between
// cells) are kept off the radios.
const GROUP_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", " "]);

// The keys the radio group uses go no further than the radio: JupyterLab reads shortcuts as the key
// event reaches the document (the arrow keys would move between cells), and the browser's own radio
// behaviour, its default action, is left to happen. Every other key (Escape, Ctrl+Shift+C, ...) is
// JupyterLab's as usual.
function keepFromShortcuts(event) {
  if (GROUP_KEYS.has(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.stopPropagation();
  }
}

function render({ model, el }) {
  // a name of its own on the page (each widget may load this module afresh, so the count is the page's)
  globalThis.framelabChoices = (globalThis.framelabChoices || 0) + 1;
  const name = `framelab-choice-${globalThis.framelabChoices}-${Math.random().toString(36).slice(2, 10)}`;
  const root = document.createElement("div");
  root.className = "framelab-choice";
  const caption = document.createElement("span");
  caption.className = "framelab-choice-caption";
  caption.id = `${name}-caption`;
  const group = document.createElement("div");
  group.setAttribute("role", "radiogroup");
  group.setAttribute("aria-labelledby", caption.id);
  root.append(caption, group);
  el.append(root);
  let inputs = [];

  function sync() {
    const chosen = model.get("index");
    const off = model.get("disabled");
    inputs.forEach((input, i) => {
      input.checked = i === chosen;
      input.disabled = off;
    });
  }

  function build() {
    caption.textContent = model.get("label");
    root.classList.toggle("framelab-choice-row", model.get("horizontal"));
    inputs = model.get("labels").map((text, i) => {
      const option = document.createElement("label");
      option.className = "framelab-choice-option";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = name;
      input.value = String(i);
      input.addEventListener("keydown", keepFromShortcuts);
      input.addEventListener("change", () => {
        if (input.checked) {
          model.set("index", i);
          model.save_changes();
        }
      });
      const words = document.createElement("span");
      words.textContent = text;
      option.append(input, words);
      return option;
    }).map((option) => {
      group.append(option);
      return option.firstChild;
    });
    sync();
  }

  function rebuild() {
    group.replaceChildren();
    build();
  }

  build();
  model.on("change:index", sync);
  model.on("change:disabled", sync);
  model.on("change:labels", rebuild);
  model.on("change:label", rebuild);
  model.on("change:horizontal", rebuild);
  return () => {
    model.off("change:index", sync);
    model.off("change:disabled", sync);
    model.off("change:labels", rebuild);
    model.off("change:label", rebuild);
    model.off("change:horizontal", rebuild);
  };
}

export default { render };
