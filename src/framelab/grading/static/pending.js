// Frame Lab: formgrader shows work still to hand-grade as pending, never as a score, and offers no
// Autograde button.
//
// nbgrader's formgrader lists draw each submission's score as "score / max", counting every
// answer not yet hand-graded as 0 ("11 / 20" for a trainee whose 4-point reflection is waiting).
// For each list that has the flag (an assignment's submissions, a trainee's assignments, a trainee's
// notebooks, a notebook's submissions), and for the trainees list (which asks the API per trainee), a row
// that still needs hand-grading shows "pending" in its score columns instead; the score so far is in the cell's title, named as such. Loaded on every
// formgrader page by framelab.grading.serverext, after nbgrader's own scripts, before any list is drawn.
(function () {
    "use strict";
    var VIEWS = ["SubmissionUI", "StudentSubmissionUI", "StudentSubmittedNotebookUI", "SubmittedNotebookUI"];
    var COLUMNS = ["$score", "$written_score"];

    function pending(view) {
        var model = view.model;
        if (!model || !model.get("needs_manual_grade")) {
            return false;
        }
        // an assignment's submission list also has rows not yet autograded: those keep nbgrader's own look
        return model.get("autograded") !== false;
    }

    function mark(view) {
        COLUMNS.forEach(function (name) {
            var cell = view[name];
            if (!cell || !cell.length) {
                return;
            }
            var sofar = cell.text();
            cell.empty()
                .attr("data-order", -1)
                .attr("data-search", "pending")
                .attr("title", sofar ? "so far " + sofar + ", with the answers still to hand-grade not counted yet" : "")
                .append($("<span/>").addClass("label label-info framelab-pending").text("pending"));
        });
    }

    // The Autograde button would run the trainee's code with the grader's rights and no sandbox: the
    // server refuses it anyway (framelab.grading.serverext), and here it is not offered at all.
    function hideAutograde(view) {
        view.$autograde.empty().attr("title", "Grade in the sandbox instead: framelab grade " +
            view.model.get("name") + " --student " + view.model.get("student"))
            .append($("<span/>").addClass("framelab-no-autograde").text("framelab grade"));
    }

    // The trainees list sums each trainee's assignments and carries no flag: ask formgrader's own API for
    // the trainee's submissions once, and mark the row when any of them still needs hand-grading.
    function markStudent(view) {
        if (view.framelabPending === undefined) {
            view.framelabPending = null;  // asked, no answer yet
            var url = window.base_url + "/formgrader/api/student_submissions/" +
                encodeURIComponent(view.model.get("id"));
            $.getJSON(url).done(function (subs) {
                view.framelabPending = (subs || []).some(function (s) {
                    return s.needs_manual_grade && s.autograded !== false;
                });
                if (view.framelabPending) {
                    mark(view);
                }
            });
        } else if (view.framelabPending) {
            mark(view);
        }
    }

    if (window.StudentUI && window.StudentUI.prototype && typeof window.StudentUI.prototype.render === "function") {
        var renderStudent = window.StudentUI.prototype.render;
        window.StudentUI.prototype.render = function () {
            var out = renderStudent.apply(this, arguments);
            markStudent(this);
            return out;
        };
    }

    VIEWS.forEach(function (name) {
        var View = window[name];
        if (!View || !View.prototype || typeof View.prototype.render !== "function") {
            return;
        }
        var render = View.prototype.render;
        View.prototype.render = function () {
            var out = render.apply(this, arguments);
            if (pending(this)) {
                mark(this);
            }
            if (this.$autograde && this.$autograde.length) {
                hideAutograde(this);
            }
            return out;
        };
    });
})();
