// Frame Lab's JupyterLab extension, written by hand: no build step, no package of its own to install.
//
// It speaks JupyterLab's protocol for prebuilt extensions (a container in window._JUPYTERLAB with
// init(shareScope) and get(module)) and takes the notebook tracker from the modules JupyterLab shares.
//
// What it does: a written answer, the Markdown cell that nbgrader leaves for the trainee to write in
// (cell metadata nbgrader.solution), gets the class "framelab-answer-cell", and the style sheet below
// draws such a cell as an answer area (a bordered, tinted box headed "Your answer") in the light and
// the dark theme. JupyterLab puts no cell metadata on the page, so this is what tells the two apart.
(function () {
  "use strict";
  const NAME = "framelab";
  const ANSWER = "framelab-answer-cell";
  const STYLE_ID = "framelab-answer-style";
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

  function isAnswer(model) {
    if (!model || model.type !== "markdown") {
      return false;
    }
    const meta = (model.getMetadata ? model.getMetadata("nbgrader") : null) || {};
    return meta.solution === true && meta.locked !== true;
  }

  function mark(cell) {
    if (!cell.isDisposed && cell.model) {
      cell.toggleClass(ANSWER, isAnswer(cell.model));
    }
  }

  function watch(panel) {
    const notebook = panel.content;
    const markAll = () => notebook.widgets.forEach(mark);
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
    description: "Shows each written answer cell as an answer area.",
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
