import { createRoot } from "react-dom/client";
import { App } from "./App";
import { WidgetController } from "./controller";
import "./widget.css";

const controller = new WidgetController();
createRoot(document.getElementById("root")!).render(<App c={controller} />);
void controller.init();
