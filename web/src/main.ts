// Entry point of the analyst console.
import './styles.css';
import { start } from './app';

const container = document.getElementById('app');
if (container) void start(container);
