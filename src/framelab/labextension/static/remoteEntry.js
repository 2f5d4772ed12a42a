// Frame Lab's JupyterLab extension, written by hand: no build step, no package of its own to install.
//
// It speaks JupyterLab's protocol for prebuilt extensions (a container in window._JUPYTERLAB with
// init(shareScope) and get(module)) and takes the notebook tracker from the modules JupyterLab shares.
//
// What it does: a written answer, the Markdown cell that nbgrader leaves for the trainee to write in
// (cell metadata nbgrader.solution), gets the class "framelab-answer-cell", and the style sheet below
// draws such a cell as an answer area (a bordered, tinted box headed "Your answer") in the light and
// the dark theme. JupyterLab puts no cell metadata on the page, so this is what tells the two apart.
// The Markdown cell just below a locked nbgrader task (Module 6's supervision tasks) is an answer too.
//
// Writing: JupyterLab's own double-click on a Markdown cell unrenders it but leaves the notebook in
// Command mode, where typed letters run shortcuts ("b" adds a cell below). Here a click or a
// double-click on an answer cell, and a double-click on any other editable Markdown cell, makes that
// cell the active one and sets the notebook to Edit mode (what `notebook:enter-edit-mode` does), which
// unrenders it and puts the cursor in it, ready to type; an answer cell that still holds only its
// "write your answer here" line has that line selected, so that typing replaces it.
(function () {
  "use strict";
  const NAME = "framelab";
  const ANSWER = "framelab-answer-cell";
  const STYLE_ID = "framelab-answer-style";
  // What an answer cell holds before anything is written (nbgrader_config.py's text, and Module 6's).
  const PLACEHOLDER = /^(Write your answer here, in your own words\.|\*Write your answer[^*]*\*)$/;
  const STYLE = `
.jp-Notebook .jp-MarkdownCell.${ANSWER} .jp-Cell-inputWrapper {
  --framelab-answer-edge: var(--jp-brand-color1);
  position: relative;
  margin: 4px 0;
  padding: 1.9em 8px 6px 0;
  border: 1px solid var(--framelab-answer-edge);
  border-left-width: 5px;
  border-radius: 4px;
  background: color-mix(in srgb, var(--jp-brand-color1) 7%, var(--jp-layout-color0));
}
.jp-Notebook .jp-MarkdownCell.${ANSWER} .jp-Cell-inputWrapper::before {
  content: "Your answer";
  position: absolute;
  top: 0.35em;
  left: 0.75em;
  font-family: var(--jp-ui-font-family);
  font-size: var(--jp-ui-font-size1);
  font-weight: 600;
  letter-spacing: 0.02em;
  color: var(--jp-ui-font-color1);
}
.jp-Notebook .jp-MarkdownCell.${ANSWER} .jp-MarkdownOutput,
.jp-Notebook .jp-MarkdownCell.${ANSWER} .jp-Cell-inputWrapper .cm-editor {
  background: transparent;
}
`;

  let shareScope = null;

  async function shared(module) {
    const versions = (shareScope || {})[module];
    if (!versions || !Object.keys(versions).length) {
      throw new Error(`${NAME}: JupyterLab does not share ${module}`);
    }
    const chosen = versions[Object.keys(versions)[0]];
    return (await chosen.get())();
  }

  function addStyle() {
    if (document.getElementById(STYLE_ID)) {
      return;
    }
    const style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent = STYLE;
    document.head.appendChild(style);
  }

  function nbgrader(model) {
    return (model && model.getMetadata ? model.getMetadata("nbgrader") : null) || {};
  }

  // A task marked per criterion has its criteria as locked task cells ("<task>__<criterion>"): the open
  // cell after them is the answer, unless the task is a written reply that is itself a solution cell.
  function group(meta) {
    return String(meta.grade_id || "").split("__")[0];
  }

  function answered(cells) {
    const out = new Set();
    for (const c of cells) {
      const meta = nbgrader(c.model);
      if (meta.solution === true) {
        out.add(group(meta));
      }
    }
    return out;
  }

  function isAnswer(model, before, solved) {
    if (!model || model.type !== "markdown") {
      return false;
    }
    const meta = nbgrader(model);
    if (meta.solution === true && meta.locked !== true) {
      return true;
    }
    const task = nbgrader(before);
    return (
      !meta.locked &&
      model.getMetadata("editable") !== false &&
      task.task === true &&
      task.locked === true &&
      !solved.has(group(task))
    );
  }

  function mark(cell, index, cells, solved) {
    // solved: the groups whose answer is a solution cell (answered(), once per pass over the notebook)
    if (!cell.isDisposed && cell.model) {
      const before = index > 0 ? cells[index - 1].model : null;
      cell.toggleClass(ANSWER, isAnswer(cell.model, before, solved));
    }
  }

  function editable(cell) {
    return cell.model.type === "markdown" && cell.model.getMetadata("editable") !== false && !cell.readOnly;
  }

  // Which cell was clicked is found at once (a double-click unrenders a Markdown cell, taking the
  // clicked element off the page); what to do is decided after JupyterLab's own handling of the click
  // (it selects the cell, or unrenders it on a double-click).
  function onClick(notebook, event, double) {
    const index = notebook.widgets.findIndex((cell) => cell.node.contains(event.target));
    if (index < 0 || event.target.closest("a, button, input, select, textarea")) {
      return;
    }
    setTimeout(() => write(notebook, index, double), 0);
  }

  function write(notebook, index, double) {
    const cell = notebook.widgets[index];
    if (!cell || cell.isDisposed || !editable(cell) || !(cell.hasClass(ANSWER) || double)) {
      return;
    }
    if (!(notebook.mode === "edit" && notebook.activeCellIndex === index)) {
      notebook.activeCellIndex = index;
      notebook.mode = "edit";
      if (cell.editor) {
        cell.editor.focus();
      }
    }
    // Already writing here, a click only moves the cursor; but while the cell still holds only its "write here"
    // line, every click selects that line again. A double-click's second press lands in the editor the first
    // opened, which selects just the word under the pointer, and typing would then keep the rest of the line.
    selectPlaceholder(cell);
  }

  function selectPlaceholder(cell) {
    const editor = cell.editor;
    const text = cell.model.sharedModel.getSource();
    if (editor && cell.hasClass(ANSWER) && PLACEHOLDER.test(text.trim())) {
      // still the "write here" line: selected, so that what is typed replaces it
      editor.setSelection({ start: { line: 0, column: 0 }, end: editor.getPositionAt(text.length) });
    }
  }

  function watch(panel) {
    const notebook = panel.content;
    const markAll = () => {
      const solved = answered(notebook.widgets);
      notebook.widgets.forEach((cell, index, cells) => mark(cell, index, cells, solved));
    };
    notebook.node.addEventListener("click", (event) => onClick(notebook, event, false));
    notebook.node.addEventListener("dblclick", (event) => onClick(notebook, event, true));
    const later = () => setTimeout(markAll, 0); // after the notebook has made the new cells' widgets
    let model = null;
    const follow = () => {
      if (model) {
        model.cells.changed.disconnect(later);
      }
      model = notebook.model;
      if (model) {
        model.cells.changed.connect(later);
      }
      later();
    };
    notebook.modelChanged.connect(follow);
    panel.context.ready.then(follow);
    follow();
  }

  const plugin = (tracker) => ({
    id: `${NAME}:answer-cells`,
    description: "Shows each written answer cell as an answer area, ready to type in when clicked.",
    autoStart: true,
    requires: [tracker],
    activate: (app, notebooks) => {
      addStyle();
      notebooks.forEach(watch);
      notebooks.widgetAdded.connect((_, panel) => watch(panel));
    },
  });

  const container = {
    init: (scope) => {
      shareScope = scope;
    },
    get: async (module) => {
      if (module !== "./extension") {
        throw new Error(`${NAME}: no module ${module}`);
      }
      const { INotebookTracker } = await shared("@jupyterlab/notebook");
      return () => ({ __esModule: true, default: plugin(INotebookTracker) });
    },
  };

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = container;
})();
